package deliver

import (
	"context"
	"errors"
	"time"

	"github.com/runjob/runjob/notifier/loop"
)

var errBusy = errors.New("another delivery holds the lock")

// errLockLost ends a delivery called off because its lock could not be
// renewed; it is transient (IsRetryable): the message is tried again.
var errLockLost = errors.New("the delivery lost its lock")

// deliveryBudget bounds the Slack work of one delivery.
const deliveryBudget = 20 * time.Second

// DefaultLockTTL is how long a delivery's lock outlives a deliverer that
// died holding it (SIGKILL, a lost machine): until then the others take
// its messages but stand back from that one. A live holder renews the lock
// every fifth of it for as long as its delivery runs (up to
// deliveryBudget), so the lock need not outlast the longest delivery.
const DefaultLockTTL = 10 * time.Second

// withLock runs fn holding the named lock; when another deliverer holds it,
// it waits a little, then gives up with errBusy (the message stays pending
// and is tried again later). The lock is renewed while fn runs; if a
// renewal fails, fn's context is cancelled before the lock can expire, so
// whoever takes the lock next does not find this delivery still going.
func (d *Deliverer) withLock(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	ttl := d.opts.LockTTL
	for try := 0; ; try++ {
		ok, err := d.store.Lock(ctx, name, d.opts.Consumer, ttl)
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
	lctx, lose := context.WithCancelCause(ctx)
	fctx, cancel := context.WithTimeout(lctx, deliveryBudget)
	kept := make(chan struct{})
	go func() { defer close(kept); d.keepLock(fctx, lose, name, ttl) }()
	defer func() {
		cancel()
		lose(nil)
		<-kept
		uctx, ucancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer ucancel()
		_ = d.store.Unlock(uctx, name, d.opts.Consumer)
	}()
	err := fn(fctx)
	if err != nil && errors.Is(context.Cause(lctx), errLockLost) {
		// Not the context.Canceled it surfaces as, which would drop the
		// message: it is tried again.
		return errLockLost
	}
	return err
}

// keepLock renews the named lock every ttl/5 until ctx ends. A renewal
// that fails, or finds the lock gone, cancels the work the lock guards:
// each renewal has at most ttl/5 to answer, so the work is called off at
// most 2/5 of ttl after the last renewal that went through, well before
// the lock expires.
func (d *Deliverer) keepLock(ctx context.Context, lose context.CancelCauseFunc, name string, ttl time.Duration) {
	every := ttl / 5
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, rcancel := context.WithTimeout(ctx, every)
		ok, err := d.store.RenewLock(rctx, name, d.opts.Consumer, ttl)
		rcancel()
		if ctx.Err() != nil {
			return // the work ended meanwhile
		}
		if err != nil || !ok {
			d.log.Warn("a delivery lost its lock; calling it off (it is tried again)", "lock", name, "err", err)
			lose(errLockLost)
			return
		}
	}
}
