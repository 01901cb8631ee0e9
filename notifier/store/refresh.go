package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/runjob/runjob/notifier/job"
)

// One followed job that Xplenty answers about, but not usefully (403, 5xx,
// a body that does not decode), is that job's problem, not the watcher's:
// its reads are put off on their own, exponentially, and after
// UnreadableAfter failures in a row it is given up with a note in its
// thread. With the default StaleAfter (10 min) that is about four and a
// half hours of a job that cannot be read.
const (
	UnreadableAfter   = 6
	MaxRefreshBackoff = 2 * time.Hour
)

// readFailScript counts a failed read of a followed job. Below the bound it
// pushes the job's "last seen" score forward, so that its next stale
// refresh comes base·2^(n-1) (at most ceiling) from now and the other stale
// jobs go first; it stays in the active set, so the change list still
// updates it. At the bound it stops following the job, lets the record
// expire and queues the note, like missScript. It returns {failures, 1 when
// given up}; {0, 0} when the job is not followed.
//
// KEYS: job hash, active set, outbox. ARGV: id, reason, bound, now (ms),
// base (ms), ceiling (ms), retention (s), the reply status
// (job.StatusUnreadable), then the terminal statuses.
var readFailScript = script("read_fail")

// ReadFailed records that a followed job could not be read (see
// readFailScript); reason is shown in its thread when it is given up, so it
// must hold nothing from the answer's body. base is the watcher's
// StaleAfter.
func (s *Store) ReadFailed(ctx context.Context, id int64, reason string, base time.Duration) (failures int, gaveUp bool, err error) {
	v, err := readFailScript.Run(ctx, s.rdb, []string{s.keys.Job(id), s.keys.Active(), s.keys.Outbox()},
		withTerminal(id, reason, UnreadableAfter, s.now().UnixMilli(), base.Milliseconds(), MaxRefreshBackoff.Milliseconds(),
			int64(s.retention/time.Second), string(job.StatusUnreadable))...).Int64Slice()
	if err != nil || len(v) != 2 {
		return 0, false, fmt.Errorf("job %d could not be read: record it: %w", id, err)
	}
	return int(v[0]), v[1] == 1, nil
}

// ReadFailures returns how many reads of a job given up as unreadable
// failed in a row (never fewer than UnreadableAfter, the count it was given
// up at) and what the last one was: the facts of its note in the thread.
func (s *Store) ReadFailures(ctx context.Context, id int64) (failures int, reason string, err error) {
	v, err := s.rdb.HMGet(ctx, s.keys.Job(id), fReadFailures, fReadFailure).Result()
	if err != nil {
		return 0, "", fmt.Errorf("note for job %d: %w", id, err)
	}
	n, _ := strconv.Atoi(fmt.Sprint(v[0]))
	reason, _ = v[1].(string)
	return max(n, UnreadableAfter), reason, nil
}
