package deliver

import (
	"context"
	"errors"
	"time"

	"github.com/runjob/runjob/notifier/loop"
)

var errBusy = errors.New("another delivery holds the lock")

// deliveryBudget bounds the Slack work of one delivery; the lock that keeps
// other deliverers off the same message lives longer, so it never expires
// while its holder may still post.
const (
	deliveryBudget = 20 * time.Second
	lockTTL        = deliveryBudget + 10*time.Second
)

// withLock runs fn holding the named lock; when another deliverer holds it,
// it waits a little, then gives up with errBusy (the message stays pending
// and is tried again later).
func (d *Deliverer) withLock(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	for try := 0; ; try++ {
		ok, err := d.store.Lock(ctx, name, d.opts.Consumer, lockTTL)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		if try == 10 || !loop.Sleep(ctx, 200*time.Millisecond) {
			return errBusy
		}
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = d.store.Unlock(uctx, name, d.opts.Consumer)
	}()
	fctx, cancel := context.WithTimeout(ctx, deliveryBudget)
	defer cancel()
	return fn(fctx)
}
