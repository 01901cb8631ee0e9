package notifier

import (
	"context"
	"errors"

	"github.com/runjob/runjob/notifier/loop"
)

// errPanicked is the error of a tick that panicked.
var errPanicked = errors.New("panicked (recovered; see the logged stack)")

// tickSafely runs one tick; a panic in it becomes errPanicked (see
// loop.LogPanic).
func (w *Watcher) tickSafely(ctx context.Context) (st TickStats, err error) {
	defer func() {
		if v := recover(); v != nil {
			loop.LogPanic(w.log, "tick", v)
			if w.opts.OnPanic != nil {
				w.opts.OnPanic()
			}
			st, err = TickStats{}, errPanicked
		}
	}()
	return w.Tick(ctx)
}
