package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
)

// A panic in one tick or one delivery is a bug, but it must not take the
// bot down with it: every other job, command and message would stop too.
// It is recovered where the work of one unit starts, logged with its stack
// and counted, and the loop goes on.

// errPanicked is the error of a tick that panicked.
var errPanicked = errors.New("panicked (recovered; see the logged stack)")

// LogPanic logs a recovered panic with the stack of the goroutine that
// panicked. The panic's value is logged only when the runtime made it (an
// index out of range, a nil map): a value passed to panic by code could
// hold anything, secrets included, so only its type is logged.
func LogPanic(log *slog.Logger, where string, v any) {
	log.Error("recovered from a panic; carrying on", "where", where, "panic", PanicValue(v), "stack", string(debug.Stack()))
}

// PanicValue describes a recovered panic value for a log line: the
// runtime's message, or the value's type.
func PanicValue(v any) string {
	if re, ok := v.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("a value of type %T", v)
}

// tickSafely runs one tick; a panic in it becomes errPanicked.
func (w *Watcher) tickSafely(ctx context.Context) (st TickStats, err error) {
	defer func() {
		if v := recover(); v != nil {
			LogPanic(w.log, "tick", v)
			if w.opts.OnPanic != nil {
				w.opts.OnPanic()
			}
			st, err = TickStats{}, errPanicked
		}
	}()
	return w.Tick(ctx)
}

// panicked logs and counts a panic recovered in one delivery. A thread
// message that panicked was not acknowledged, so it stays pending and is
// claimed again after ClaimIdle; a card that panicked is due again shortly
// (both kinds of delivery are idempotent).
func (d *Deliverer) panicked(entry string, v any) {
	LogPanic(d.log.With("entry", entry), "delivery", v)
	if d.opts.OnPanic != nil {
		d.opts.OnPanic()
	}
}
