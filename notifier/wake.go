package notifier

import (
	"context"
	"time"

	"github.com/runjob/runjob/notifier/loop"
)

// Waking the watcher: Xplenty's web hooks say that a job changed, so the
// leader polls now instead of at the end of its interval, with the same
// list call and the same path through the store as any poll. The wake-up
// says nothing about what changed (the hooks' payload is not documented,
// and is not trusted): the poll finds out.
//
// The debounce is the leader's own: wake-ups fold into one while they
// wait, and a poll brought forward starts at the earliest WakeGap after the
// previous poll started. A wake-up is thus never dropped, only deferred to
// the end of the gap (the trailing edge), so a change announced just after
// a poll waits at most WakeGap, not a whole interval. Only the leader polls,
// so only it needs to know the gap, and no Redis round trip decides it.

// DefaultWakeGap is WatcherOptions.WakeGap's default: at most two polls a
// second brought forward by wake-ups. That could be 7,200 list calls an
// hour, more than the API key's 5,000, but wake-ups are ignored as soon as
// NextDelay slows polling down, when a quarter of the budget is left.
const DefaultWakeGap = 500 * time.Millisecond

// Wake asks the watcher to poll now rather than at the end of its
// interval: at once, or WakeGap after the last poll started if that is
// later. It never blocks; wake-ups fold together. A replica that does not
// hold the polling lease ignores it, and so does one that is slowing down
// (a low budget, failed polls). Wake-ups from other replicas arrive
// through the store (store.Wake) when WatcherOptions.ListenForWakes is set.
func (w *Watcher) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// sleep waits delay, or until ctx ends (false). When wakeable, a wake-up
// cuts the wait short: the next poll starts WakeGap after lastStart, or at
// once if that is past. A wake-up that finds the watcher not wakeable is
// dropped.
func (w *Watcher) sleep(ctx context.Context, delay time.Duration, lastStart time.Time, wakeable bool) bool {
	t := time.NewTimer(delay)
	defer t.Stop()
	due := time.Now().Add(delay)
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-w.wake:
			at := lastStart.Add(w.opts.WakeGap)
			if !wakeable || !at.Before(due) {
				continue
			}
			d := time.Until(at)
			if d <= 0 {
				return true
			}
			due = at
			t.Reset(d)
		}
	}
}

// listen forwards the store's wake-ups to Wake until ctx ends. The first
// subscription is made before Run first polls, so that once this replica
// polls, a wake-up published is heard. When it cannot be made, polling goes
// on alone and listening is tried again every interval.
func (w *Watcher) listen(ctx context.Context) {
	wakes, err := w.store.Wakes(ctx)
	go func() {
		for err != nil {
			w.log.Warn("cannot listen for wake-ups (web hooks); polling alone meanwhile", "err", err)
			if !loop.Sleep(ctx, w.opts.Interval) {
				return
			}
			wakes, err = w.store.Wakes(ctx)
		}
		for range wakes {
			w.Wake()
		}
	}()
}
