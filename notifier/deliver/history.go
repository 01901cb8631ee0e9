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
func (d *Deliverer) watchdogNote(ctx context.Context, r job.Record, status xplenty.Status) (render.Message, error) {
	elapsed, err := d.store.Noted(ctx, r.JobID, status)
	if err != nil {
		return render.Message{}, err
	}
	switch status {
	case job.StatusQueuedLong:
		return render.QueuedNote(r, elapsed), nil
	case job.StatusStoppingLong:
		return render.StoppingNote(r, elapsed), nil
	}
	h, err := d.store.History(ctx, r.ClusterID, r.PackageID)
	if err != nil {
		return render.Message{}, err
	}
	usual, _ := store.UsualRuntime(h)
	return render.SlowNote(r, elapsed, usual), nil
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
