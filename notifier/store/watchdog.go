package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/xplenty"
)

// Watched is what the watchdog needs of a followed job: no variables, no
// secrets opened.
type Watched struct {
	JobID      int64
	ClusterID  int64
	PackageID  int64
	Status     xplenty.Status
	Since      time.Time     // when it entered Status (its last change for older records)
	MaxRuntime time.Duration // the preset's max_runtime, 0 for none
	// Noted holds the watchdog notes already queued for it.
	Noted map[xplenty.Status]bool
}

// watchdogNotes are the notes whose markers Watching reads.
var watchdogNotes = []xplenty.Status{job.StatusSlow, job.StatusQueuedLong, job.StatusStoppingLong}

// Watching returns up to limit followed jobs, those seen longest ago first,
// read in one round trip.
func (s *Store) Watching(ctx context.Context, limit int64) ([]Watched, error) {
	ids, err := s.rdb.ZRange(ctx, s.keys.Active(), 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("watched jobs: %w", err)
	}
	fields := []string{fSpec, fStatus, fStatusSince, fUpdated}
	for _, n := range watchdogNotes {
		fields = append(fields, fNoted+string(n))
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			n, _ := strconv.ParseInt(id, 10, 64)
			cmds[i] = p.HMGet(ctx, s.keys.Job(n), fields...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("watched jobs: %w", err)
	}
	out := make([]Watched, 0, len(ids))
	for i, id := range ids {
		v := cmds[i].Val()
		str := func(k int) string { s, _ := v[k].(string); return s }
		var sp spec
		if json.Unmarshal([]byte(str(0)), &sp) != nil || str(1) == "" {
			continue
		}
		w := Watched{ClusterID: sp.ClusterID, PackageID: sp.PackageID, Status: xplenty.Status(str(1)),
			MaxRuntime: time.Duration(sp.MaxRuntimeMS) * time.Millisecond, Noted: map[xplenty.Status]bool{}}
		w.JobID, _ = strconv.ParseInt(id, 10, 64)
		since, err := strconv.ParseInt(str(2), 10, 64)
		if err != nil {
			since, _ = strconv.ParseInt(str(3), 10, 64)
		}
		if since > 0 {
			w.Since = time.UnixMilli(since).UTC()
		}
		for k, n := range watchdogNotes {
			if str(4+k) != "" {
				w.Noted[n] = true
			}
		}
		out = append(out, w)
	}
	return out, nil
}

// noteScript queues a watchdog note once per job and note: only while the
// job is still in the status the note is about, and only the first time
// (the marker, set to how long the job had been in its status, stays with
// the record). Replicas and restarts agree through the marker; the note is
// then delivered exactly once like a reply. It returns 1 when queued.
//
// KEYS: job hash, outbox. ARGV: id, note status, the job status it is
// about, time in that status (ms), then the terminal statuses.
var noteScript = script("note")

// Note queues the watchdog note for a job that has been in status for
// elapsed, unless it was queued before or the job moved on; it reports
// whether it queued it.
func (s *Store) Note(ctx context.Context, id int64, note, status xplenty.Status, elapsed time.Duration) (bool, error) {
	n, err := noteScript.Run(ctx, s.rdb, []string{s.keys.Job(id), s.keys.Outbox()},
		withTerminal(id, string(note), string(status), elapsed.Milliseconds())...).Int()
	if err != nil {
		return false, fmt.Errorf("note %s on job %d: %w", note, id, err)
	}
	return n == 1, nil
}

// Noted returns how long the job had been in its status when the note was
// queued (0 when it was not).
func (s *Store) Noted(ctx context.Context, id int64, note xplenty.Status) (time.Duration, error) {
	v, err := s.rdb.HGet(ctx, s.keys.Job(id), fNoted+string(note)).Result()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("note %s on job %d: %w", note, id, err)
	}
	ms, _ := strconv.ParseInt(v, 10, 64)
	return time.Duration(ms) * time.Millisecond, nil
}
