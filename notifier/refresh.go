package notifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/xplenty"
)

// One followed job that Xplenty answers about, but not usefully (403, 5xx,
// a body that does not decode), is that job's problem, not the watcher's:
// its reads are put off on their own, exponentially, and after
// unreadableAfter failures in a row it is given up with a note in its
// thread. With the default StaleAfter (10 min) that is about four and a
// half hours of a job that cannot be read.
const (
	unreadableAfter   = 6
	maxRefreshBackoff = 2 * time.Hour
)

// statusUnreadable is the reply "status" of a job given up because it could
// not be read.
const statusUnreadable xplenty.Status = "unreadable"

// Hash fields of job:{id} kept by readFailScript; any successful
// observation (observeScript) clears them.
const (
	fReadFailures = "read_failures" // failed reads in a row
	fReadFailure  = "read_failure"  // what the last one was, safe to show
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
// base (ms), ceiling (ms), retention (s).
var readFailScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st or st == 'completed' or st == 'failed' or st == 'stopped' then return {0, 0} end
if redis.call('HEXISTS', KEYS[1], 'lost') == 1 then return {0, 0} end
local n = redis.call('HINCRBY', KEYS[1], 'read_failures', 1)
redis.call('HSET', KEYS[1], 'read_failure', ARGV[2])
local now = tonumber(ARGV[4])
if n < tonumber(ARGV[3]) then
  local base = tonumber(ARGV[5])
  local wait = math.min(base * math.pow(2, n - 1), math.max(tonumber(ARGV[6]), base))
  redis.call('ZADD', KEYS[2], 'XX', now + wait - base, ARGV[1])
  return {n, 0}
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'finished', now, 'lost', 1)
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('XADD', KEYS[3], '*', 'kind', 'reply', 'job', ARGV[1], 'status', 'unreadable')
return {n, 1}
`)

// ReadFailed records that a followed job could not be read (see
// readFailScript); reason is shown in its thread when it is given up, so it
// must hold nothing from the answer's body. base is the watcher's
// StaleAfter.
func (s *Store) ReadFailed(ctx context.Context, id int64, reason string, base time.Duration) (failures int, gaveUp bool, err error) {
	v, err := readFailScript.Run(ctx, s.rdb, []string{s.keys.job(id), s.keys.active(), s.keys.outbox()},
		id, reason, unreadableAfter, s.now().UnixMilli(), base.Milliseconds(), maxRefreshBackoff.Milliseconds(),
		int64(s.retention/time.Second)).Int64Slice()
	if err != nil || len(v) != 2 {
		return 0, false, fmt.Errorf("job %d could not be read: record it: %w", id, err)
	}
	return int(v[0]), v[1] == 1, nil
}

// jobFault tells a failed read of one job that is that job's own problem
// from one that is the API's or the network's. The change list was read
// a moment before, in the same tick: an answer about this one job (a 403, a
// 5xx after the client's retries, a body that does not decode) is about the
// job, and must cost only the job. A 429 (the budget, shared by every job
// and every tool on the key, is spent), a 401 (the key was refused) and no
// answer at all (network, timeout) say nothing about the job: the watcher
// backs off as a whole, as it does when the list fails.
func jobFault(err error) bool {
	if xplenty.IsUndecodable(err) {
		return true
	}
	var er *xplenty.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	switch er.StatusCode {
	case http.StatusUnauthorized, http.StatusTooManyRequests:
		return false
	}
	return true
}

// readFailure says what went wrong in words safe for the job's thread: the
// HTTP status, never the answer's text (it may echo the job's variables).
func readFailure(err error) string {
	var er *xplenty.ErrorResponse
	if errors.As(err, &er) {
		return "HTTP " + strconv.Itoa(er.StatusCode) + " " + http.StatusText(er.StatusCode)
	}
	return "an answer I could not decode"
}

// unreadableNote is posted in the thread of a job given up because it
// could not be read.
func (s *Store) unreadableNote(ctx context.Context, r Record) (Message, error) {
	v, err := s.rdb.HMGet(ctx, s.keys.job(r.JobID), fReadFailures, fReadFailure).Result()
	if err != nil {
		return Message{}, fmt.Errorf("note for job %d: %w", r.JobID, err)
	}
	n, _ := strconv.Atoi(fmt.Sprint(v[0]))
	n = max(n, unreadableAfter)
	why := ""
	if reason, ok := v[1].(string); ok && reason != "" {
		why = " (" + Escape(oneLine(reason)) + ")"
	}
	page := ""
	if link := Link(r.HTMLURL, "its Xplenty page"); link != "" {
		page = " Check it on " + link + "."
	}
	return Message{Text: fmt.Sprintf("%sJob %d: unreadable – I could not read this job from Xplenty %d times in a row%s, so I stopped following it.%s",
		notePing(r), r.JobID, n, why, page)}, nil
}
