package app

import (
	"context"
	"time"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/store"
)

// recoverLaunches resolves, every minute, launches cut short by a process
// that died between posting a card and tracking its job.
func recoverLaunches(ctx context.Context, b *bot.Bot) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		b.RecoverLaunches(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drainOutbox waits until no reply and no due card edit waits and the
// deliverer is not in the middle of a card edit, at most limit.
func drainOutbox(ctx context.Context, store *store.Store, d *deliver.Deliverer, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		if q, err := store.Queues(ctx); err != nil || (q.Replies+q.CardsDue == 0 && !d.EditingCard()) {
			return
		}
		if !loop.Sleep(ctx, 20*time.Millisecond) {
			return
		}
	}
}
