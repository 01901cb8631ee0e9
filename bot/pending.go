package bot

import (
	"context"
	"time"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// cardJobSkew is how far before a launch was asked recovery looks for a job
// recorded for its card: the job is recorded after the launch, by this or
// another replica, whose clock may differ a little.
const cardJobSkew = time.Hour

// pendingTwins counts the other launches still pending in Redis that could
// own job: same cluster, package, variables and dynamic variables (unless
// the job does not show its dynamic variables: then any), asked
// early enough to have created it. Such a twin is another person's run, or
// another click of one's own, whose answer may yet arrive; taking its job
// would leave that card without one, so the job is not taken.
//
// A job found contested (an earlier look saw a twin) counts as having one,
// even if that twin was since resolved: its card said "outcome unknown",
// and the job may still be its. A job found with a twin is marked so.
func (b *Bot) pendingTwins(ctx context.Context, in store.Intent, job xplenty.Job) (int, error) {
	if contested, err := b.cfg.Store.Contested(ctx, job.ID); err != nil || contested {
		return 1, err
	}
	n, err := b.countTwins(ctx, in, job)
	if err != nil || n == 0 {
		return n, err
	}
	if err := b.cfg.Store.Contest(ctx, job.ID); err != nil {
		return n, err
	}
	return n, nil
}

func (b *Bot) countTwins(ctx context.Context, in store.Intent, job xplenty.Job) (int, error) {
	pending, err := b.cfg.Store.PendingLaunches(ctx, in.ID())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, other := range pending {
		o, l := other.Run, in.Run
		if o.ClusterID != l.ClusterID || o.PackageID != l.PackageID || !sameVars(o.Variables, l.Variables) ||
			(job.DynamicVariables != nil && !sameVars(o.DynamicVariables, l.DynamicVariables)) {
			continue
		}
		if job.CreatedAt != nil && !other.Asked.IsZero() && job.CreatedAt.Before(other.Asked.Add(-findSkew)) {
			continue // created before that launch was asked: not its job
		}
		n++
	}
	return n, nil
}
