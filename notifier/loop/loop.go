// Package loop holds what every long-running loop of the bot shares: a
// cancellable sleep and the recovery of a panic in one unit of work.
//
// A panic in one tick or one delivery is a bug, but it must not take the
// bot down with it: every other job, command and message would stop too.
// It is recovered where the work of one unit starts, logged with its stack
// (LogPanic) and counted, and the loop goes on.
package loop

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"
)

// Sleep waits d or until ctx ends; it reports whether the wait completed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

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
