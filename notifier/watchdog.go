package notifier

import (
	"context"
	"time"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// WatchdogOptions set when a followed job gets a note in its thread for
// taking long: one note per job and threshold, mentioning whoever started
// it.
type WatchdogOptions struct {
	// QueuedAfter is how long a job may stay queued (waiting for cluster
	// resources) before its note; 0 never notes.
	QueuedAfter time.Duration
	// StoppingAfter is how long a job may stay in pending_stoppage before
	// its note; 0 never notes.
	StoppingAfter time.Duration
	// Every is how often the leader looks for jobs past a threshold.
	// Default six poll intervals, at most a minute.
	Every time.Duration
}

// A running job is slow past its preset's max runtime; without one, past
// SlowFactor times the median runtime of its package on its cluster, once
// there are SlowMinRuns completed runs to take it from; otherwise never.
const (
	SlowFactor  = 3
	SlowMinRuns = 5
)

// watchdogLimit bounds the jobs one pass reads.
const watchdogLimit = 1000

// watchdog queues the notes of jobs past a threshold. It reads what it
// needs from Redis (the followed jobs' status and when they entered it, in
// one round trip, and each package's history once), never Xplenty: the
// poll has already brought the statuses. It runs every Watchdog.Every, not
// every tick, so Redis reads all followed jobs at most that often. The
// store queues each note at most once, whatever replicas or restarts do.
func (w *Watcher) watchdog(ctx context.Context, st *TickStats) error {
	now := w.store.Now()
	if now.Sub(w.lastWatch) < w.opts.Watchdog.Every {
		return nil
	}
	jobs, err := w.store.Watching(ctx, watchdogLimit)
	if err != nil {
		return err
	}
	w.lastWatch = now
	usual := map[[2]int64]time.Duration{}
	for _, j := range jobs {
		var note xplenty.Status
		var limit time.Duration
		switch j.Status {
		case xplenty.StatusRunning:
			note, limit = job.StatusSlow, j.MaxRuntime
			if limit <= 0 && !j.Noted[note] {
				if limit, err = w.slowAfter(ctx, j, usual); err != nil {
					return err
				}
			}
		case xplenty.StatusQueued:
			note, limit = job.StatusQueuedLong, w.opts.Watchdog.QueuedAfter
		case xplenty.StatusPendingStoppage:
			note, limit = job.StatusStoppingLong, w.opts.Watchdog.StoppingAfter
		}
		if limit <= 0 || j.Noted[note] || j.Since.IsZero() || now.Sub(j.Since) < limit {
			continue
		}
		queued, err := w.store.Note(ctx, j.JobID, note, j.Status, now.Sub(j.Since))
		if err != nil {
			return err
		}
		if queued {
			st.Noted++
			w.log.Info("job past its watchdog threshold; note queued", "job_id", j.JobID, "note", note, "after", now.Sub(j.Since).Round(time.Second).String())
		}
	}
	return nil
}

// slowAfter is SlowFactor times the usual runtime of j's package on its
// cluster, or 0 without SlowMinRuns completed runs; cache holds what this
// pass already read.
func (w *Watcher) slowAfter(ctx context.Context, j store.Watched, cache map[[2]int64]time.Duration) (time.Duration, error) {
	k := [2]int64{j.ClusterID, j.PackageID}
	if d, ok := cache[k]; ok {
		return d, nil
	}
	h, err := w.store.History(ctx, j.ClusterID, j.PackageID)
	if err != nil {
		return 0, err
	}
	var d time.Duration
	if usual, n := store.UsualRuntime(h); n >= SlowMinRuns {
		d = SlowFactor * usual
	}
	cache[k] = d
	return d, nil
}
