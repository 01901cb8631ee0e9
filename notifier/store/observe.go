package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/xplenty"
)

// requestStopScript marks a stop request on a job that is not finished and
// marks its card due now, atomically. It returns 0 when the job is unknown, 2
// when it has already finished, 1 otherwise.
//
// KEYS: job hash, cards. ARGV: id, user, now (ms), then the terminal
// statuses.
var requestStopScript = script("request_stop")

// RequestStop records that user asked to stop a job, and queues a card edit
// so the card says "stopping…".
func (s *Store) RequestStop(ctx context.Context, id int64, user string) error {
	n, err := requestStopScript.Run(ctx, s.rdb, []string{s.keys.Job(id), s.keys.Cards()}, withTerminal(id, user, s.now().UnixMilli())...).Int()
	if err != nil {
		return fmt.Errorf("request stop of job %d: %w", id, err)
	}
	switch n {
	case 0:
		return fmt.Errorf("request stop of job %d: %w", id, ErrNotTracked)
	case 2:
		return fmt.Errorf("request stop of job %d: %w", id, ErrFinished)
	}
	return nil
}

// Change says what Observe found.
type Change int

// What an observation changed.
const (
	Unchanged     Change = iota // nothing new, or the job is not tracked
	ProgressMoved               // same status, progress crossed a tenth: card marked due after CardEvery
	StatusChanged               // new status: card marked due now
	Finished                    // terminal status: card marked due now, thread reply queued
)

// observeScript applies what Xplenty says about a job to its record, and
// queues the messages the change calls for, in one atomic step: whatever
// replicas and retries observe the same change, it is recorded once and one
// reply is queued. A finished job never changes again. The card is marked
// in the cards set (one member per job, the earliest due time kept): due
// now for a new status, for progress alone no sooner than CardEvery after
// its last edit. A job given up (lost, unreadable) is left alone: its
// thread says the bot stopped following it, and a reply after that note
// would read out of order.
//
// The status's change is dated (status_since), and an end goes into the
// package's history on its cluster (newest first, bounded, expiring like a
// finished record) in the same step, so a replayed observation never adds
// it twice.
//
// KEYS: job hash, active set, outbox, cards, history. ARGV: id, status,
// progress, errors, html_url, runtime seconds, outputs JSON, now (ms),
// terminal (0/1), retention (s), card interval (ms), the stopped status,
// the history bound (0: cluster or package unknown, no history), then the
// terminal statuses.
var observeScript = script("observe")

// Observe records what Xplenty reported about a job and queues the Slack
// messages the change calls for. Jobs the bot does not track are ignored.
func (s *Store) Observe(ctx context.Context, j xplenty.Job) (Change, error) {
	outputs := ""
	if len(j.Outputs) > 0 {
		b, err := json.Marshal(j.Outputs)
		if err != nil {
			return Unchanged, fmt.Errorf("observe job %d: %w", j.ID, err)
		}
		outputs = string(b)
	}
	terminal := "0"
	if j.Status.Terminal() {
		terminal = "1"
	}
	errorsText, err := s.scrubErrors(ctx, j.ID, j.Errors)
	if err != nil {
		return Unchanged, fmt.Errorf("observe job %d: %w", j.ID, err)
	}
	bound := historyLen
	if j.ClusterID <= 0 || j.PackageID <= 0 {
		bound = 0
	}
	n, err := observeScript.Run(ctx, s.rdb,
		[]string{s.keys.Job(j.ID), s.keys.Active(), s.keys.Outbox(), s.keys.Cards(), s.keys.History(j.ClusterID, j.PackageID)},
		withTerminal(j.ID, string(j.Status), formatFloat(clamp01(j.Progress)), errorsText, j.HTMLURL,
			j.RuntimeInSeconds, outputs, s.now().UnixMilli(), terminal, int64(s.retention/time.Second),
			s.cardEvery.Milliseconds(), string(xplenty.StatusStopped), bound)...,
	).Int()
	if err != nil {
		return Unchanged, fmt.Errorf("observe job %d: %w", j.ID, err)
	}
	return Change(n), nil
}

// lostAfter is how many "not found" answers in a row make the watcher stop
// following a job (Xplenty deleted it, or it belongs to another account).
const lostAfter = 3

// missScript counts a "not found" answer for a followed job; at lostAfter
// in a row it stops following the job, lets the record expire, and queues
// a note in the thread. It returns 1 when the job was given up.
//
// KEYS: job hash, active set, outbox. ARGV: id, bound, now (ms),
// retention (s), the reply status (job.StatusLost), then the terminal
// statuses.
var missScript = script("miss")

// Missed records that Xplenty answered "not found" for a followed job.
func (s *Store) Missed(ctx context.Context, id int64) (gaveUp bool, err error) {
	n, err := missScript.Run(ctx, s.rdb, []string{s.keys.Job(id), s.keys.Active(), s.keys.Outbox()},
		withTerminal(id, lostAfter, s.now().UnixMilli(), int64(s.retention/time.Second), string(job.StatusLost))...).Int()
	if err != nil {
		return false, fmt.Errorf("job %d not found: %w", id, err)
	}
	return n == 1, nil
}
