package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// historyLen is how many ended jobs the history of a package on a cluster
// keeps (observeScript pushes them).
const historyLen = 20

// HistoryEntry is one ended job in the history of a package on a cluster.
type HistoryEntry struct {
	JobID    int64
	Status   xplenty.Status // completed, failed or stopped
	Finished time.Time      // when the bot saw it end
	Runtime  time.Duration  // as Xplenty reported it
}

// History returns the last ended jobs (at most 20) of a package on a
// cluster, newest first: completed, failed and stopped alike. It is kept
// as long as finished records, from the last end.
func (s *Store) History(ctx context.Context, clusterID, packageID int64) ([]HistoryEntry, error) {
	raw, err := s.rdb.LRange(ctx, s.keys.History(clusterID, packageID), 0, historyLen-1).Result()
	if err != nil {
		return nil, fmt.Errorf("history of package %d on cluster %d: %w", packageID, clusterID, err)
	}
	out := make([]HistoryEntry, 0, len(raw))
	for _, v := range raw {
		var e struct {
			Job      int64  `json:"job"`
			Status   string `json:"status"`
			Finished int64  `json:"finished"`
			Runtime  int64  `json:"runtime"`
		}
		if json.Unmarshal([]byte(v), &e) != nil {
			continue // not written by this bot; the rest still count
		}
		out = append(out, HistoryEntry{JobID: e.Job, Status: xplenty.Status(e.Status),
			Finished: time.UnixMilli(e.Finished).UTC(), Runtime: time.Duration(e.Runtime) * time.Second})
	}
	return out, nil
}

// UsualRuntime is the median runtime of the completed jobs in h, and how
// many there were (0: no usual runtime).
func UsualRuntime(h []HistoryEntry) (usual time.Duration, completed int) {
	var rts []time.Duration
	for _, e := range h {
		if e.Status == xplenty.StatusCompleted && e.Runtime > 0 {
			rts = append(rts, e.Runtime)
		}
	}
	if len(rts) == 0 {
		return 0, 0
	}
	slices.Sort(rts)
	n := len(rts)
	if n%2 == 1 {
		return rts[n/2], n
	}
	return (rts[n/2-1] + rts[n/2]) / 2, n
}
