package bot

import (
	"context"
	"errors"
	"time"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// recoverAfter is how old a launch must be before RecoverLaunches looks at
// it: older than any run request in flight (a handler gets a minute).
const recoverAfter = 2 * time.Minute

// RecoverLaunches resolves launches whose process died between "card
// posted" and "job tracked": it looks for the job in Xplenty (never runs
// it again), tracks it when exactly one fits, and otherwise tells the card
// the outcome is unknown. Every replica may run it; a lock per launch
// keeps them from doing the same one twice.
func (b *Bot) RecoverLaunches(ctx context.Context) {
	stale, err := b.cfg.Store.StaleIntents(ctx, time.Now().Add(-recoverAfter), 20)
	if err != nil {
		b.log.Warn("look for unfinished launches", "err", err)
		return
	}
	for id, in := range stale {
		ok, err := b.cfg.Store.Lock(ctx, "intent:"+id, b.holder, 5*time.Minute)
		if err != nil || !ok {
			continue
		}
		if in == nil {
			b.lostLaunch(ctx, id)
			continue
		}
		b.recoverLaunch(ctx, *in)
	}
}

// lostLaunch resolves a launch whose data cannot be read (sealed with a key
// that is gone): its id still names the card, which is told, so that it
// does not stay at "Starting…" forever.
func (b *Bot) lostLaunch(ctx context.Context, id string) {
	channel, ts := store.CardOf(id)
	b.log.Warn("a launch whose details cannot be read (sealing key gone): the card is told", "channel", channel, "card", ts)
	if channel != "" && ts != "" {
		b.updateCard(ctx, channel, ts, render.LostLaunchCard(b.cfg.Xplenty.JobsPageURL()))
	}
	if err := b.cfg.Store.DeleteIntent(context.WithoutCancel(ctx), id); err != nil {
		b.log.Warn("forget launch", "err", err)
	}
}

func (b *Bot) recoverLaunch(ctx context.Context, in store.Intent) {
	log := b.log.With("channel", in.Channel, "card", in.CardTS, "package_id", in.Run.PackageID)
	// A job tracked for this card means the launch was resolved and only
	// its forgetting was cut short (a process of an older version, which
	// did the two apart): the card is that job's, and is not written over.
	if id, ok, err := b.cfg.Store.CardJob(ctx, in.Channel, in.CardTS, in.Asked.Add(-cardJobSkew)); err != nil {
		log.Warn("look for the job of an unfinished launch's card", "err", err)
		return // tried again next round
	} else if ok {
		log.Info("unfinished launch already has its job; forgetting it", "job_id", id)
		b.forgetIntent(ctx, in.ID())
		return
	}
	job, n, err := b.lookForJob(ctx, in)
	if err != nil {
		log.Warn("look for the job of an unfinished launch", "err", err)
		return // tried again next round
	}
	if n == 1 {
		if id, ok := b.adopt(ctx, in, job); ok {
			log.Info("recovered a job whose launch was cut short", "job_id", id)
		}
		return
	}
	log.Warn("unfinished launch: the job cannot be identified", "candidates", n)
	b.updateCard(ctx, in.Channel, in.CardTS, render.UnknownOutcomeCard(render.Starting{Requester: in.Requester, Run: in.Run}, b.cfg.Xplenty.JobsPageURL()))
	b.forgetIntent(ctx, in.ID())
}

// findSkew allows for clocks when looking for a job whose run request lost
// its answer: Xplenty's created_at against ours.
const findSkew = 2 * time.Minute

// findPauses are the pauses before each look for such a job: it may take a
// moment to appear in the list.
func findPauses() []time.Duration {
	return []time.Duration{time.Second, 3 * time.Second, 8 * time.Second}
}

// findStarted looks in Xplenty's list of the package's newest jobs for the
// one a run request whose answer was lost may have started, a few times
// over a few seconds (it may take a moment to appear). It adopts a job only
// when exactly one fits, so it never claims someone else's run, and it never
// runs anything.
func (b *Bot) findStarted(ctx context.Context, in store.Intent) *xplenty.Job {
	for _, pause := range findPauses() {
		if !loop.Sleep(ctx, pause) {
			return nil
		}
		job, n, err := b.lookForJob(ctx, in)
		switch {
		case err != nil:
			b.log.Warn("look for the job of a lost run answer", "err", err)
		case n == 1:
			return job
		case n > 1:
			b.log.Warn("several jobs could be the one whose run answer was lost; not guessing", "candidates", n)
			return nil
		}
	}
	return nil
}

// lookForJob lists the package's newest jobs (one call) and returns the
// jobs that could be the launch's: same cluster, same variables, created
// since it was asked, not tracked yet. It returns the job when exactly one
// fits and no other launch could own it, and how many jobs and owners are
// possible: a job of the list that does not decode could be the one, and
// another identical launch still pending could be the job's owner
// (someone else's identical run is never taken for this one's).
func (b *Bot) lookForJob(ctx context.Context, in store.Intent) (*xplenty.Job, int, error) {
	l, asked := in.Run, in.Asked
	page, err := b.cfg.Xplenty.ListJobs(ctx, xplenty.ListOptions{
		PackageID: l.PackageID, Sort: "created", Direction: "desc", Limit: 20,
	})
	if err != nil {
		return nil, 0, err
	}
	var found []xplenty.Job
	for _, j := range page.Jobs {
		if j.ClusterID != l.ClusterID || j.CreatedAt == nil || j.CreatedAt.Before(asked.Add(-findSkew)) ||
			!sameVars(j.Variables, l.Variables) || !sameDynamic(j, l) {
			continue
		}
		if _, err := b.cfg.Store.Get(ctx, j.ID); !errors.Is(err, store.ErrNotTracked) {
			continue // ours already, or Redis cannot tell: do not guess
		}
		found = append(found, j)
	}
	n := len(found) + len(page.Undecodable)
	if n != 1 || len(found) != 1 {
		return nil, n, nil
	}
	twins, err := b.pendingTwins(ctx, in, found[0])
	if err != nil {
		return nil, 0, err
	}
	if twins > 0 {
		return nil, 1 + twins, nil
	}
	return &found[0], 1, nil
}

// sameDynamic reports whether a job may have the launch's dynamic
// variables: Xplenty does not always echo them, and a job that shows none
// cannot be told apart by them (countTwins then weighs every launch that
// differs only in them).
func sameDynamic(j xplenty.Job, l commands.Run) bool {
	return j.DynamicVariables == nil || sameVars(j.DynamicVariables, l.DynamicVariables)
}

func sameVars(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
