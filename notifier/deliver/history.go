package deliver

// What the deliverer reads from a package's history: the watchdog notes
// and the running card's usual runtime.

import (
	"context"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// watchdogNote renders the watchdog's note of status about r: how long the
// job had been in its status when noted and, for a slow job, the usual
// runtime of its package on its cluster.
func (d *Deliverer) watchdogNote(ctx context.Context, r job.Record, status xplenty.Status, m render.Mentions) (render.Message, error) {
	elapsed, err := d.store.Noted(ctx, r.JobID, status)
	if err != nil {
		return render.Message{}, err
	}
	switch status {
	case job.StatusQueuedLong:
		return render.QueuedNote(r, elapsed, m), nil
	case job.StatusStoppingLong:
		return render.StoppingNote(r, elapsed, m), nil
	}
	h, err := d.store.History(ctx, r.ClusterID, r.PackageID)
	if err != nil {
		return render.Message{}, err
	}
	usual, _ := store.UsualRuntime(h)
	return render.SlowNote(r, elapsed, usual, m), nil
}

// cardContext is what a running job's card shows beside its record: the
// usual runtime of its package on its cluster. A history that cannot be
// read leaves it out rather than hold the edit back.
func (d *Deliverer) cardContext(ctx context.Context, r job.Record) render.CardContext {
	c := render.CardContext{Now: d.store.Now()}
	if r.Status != xplenty.StatusRunning {
		return c
	}
	h, err := d.store.History(ctx, r.ClusterID, r.PackageID)
	if err != nil {
		d.log.Debug("history for the card", "job_id", r.JobID, "err", err)
		return c
	}
	c.Usual, _ = store.UsualRuntime(h)
	return c
}

// streak is what the package's history says of the runs before a failed
// job: its failures in a row (stopped runs neither break nor extend one)
// and the last success. A history that cannot be read says nothing rather
// than hold the reply back.
func (d *Deliverer) streak(ctx context.Context, r job.Record) render.Streak {
	h, err := d.store.History(ctx, r.ClusterID, r.PackageID)
	if err != nil {
		d.log.Debug("history for the failure reply", "job_id", r.JobID, "err", err)
		return render.Streak{}
	}
	return streakOf(r.JobID, h)
}

// streakOf reads a history, newest first, from the failed job's own entry
// (the entry is written with the end, so it is there; entries of later
// jobs, which ended before this reply went out, are skipped).
func streakOf(jobID int64, h []store.HistoryEntry) render.Streak {
	var s render.Streak
	i := 0
	for i < len(h) && h[i].JobID != jobID {
		i++
	}
	if i == len(h) {
		return s // not in the history (ended before it was kept)
	}
	for _, e := range h[i:] {
		switch e.Status {
		case xplenty.StatusFailed:
			if s.LastSuccess == 0 {
				s.Failures++
			}
		case xplenty.StatusCompleted:
			s.LastSuccess, s.LastSuccessAt = e.JobID, e.Finished
			return s
		}
	}
	return s
}
