package ops

import (
	"time"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/xplenty"
)

// Hooks are the observation points the components feed the metrics through
// (Metrics.Hooks wires each to its component's set); nil fields are skipped.
type Hooks struct {
	Command   func(kind string, o bot.Outcome)
	Xplenty   func(method, route string, status int, d time.Duration)
	SlackCall func(method, code string)
	Tick      func(notifier.TickStats)
	Delivered func(kind string, jobID int64, status xplenty.Status)
	// Panicked is told where a panic was recovered: "envelope", "tick" or
	// "delivery".
	Panicked func(where string)
	// Unreplicated is told of a write that should have reached a replica
	// before the bot went on, and that no replica confirmed in time (with
	// Sentinel, or a Cluster whose slot's primary has a replica:
	// store.Options.OnUnreplicated), with what it was.
	Unreplicated func(what string)
}

// PanicAt returns the hook that reports a recovered panic at where; nil
// when nothing observes panics.
func (h Hooks) PanicAt(where string) func() {
	if h.Panicked == nil {
		return nil
	}
	return func() { h.Panicked(where) }
}

// WithHooks returns Hooks that call a's observation point, then b's, for
// each field either sets; app.Serve uses it to add the metrics to the Hooks a
// caller passed in its Deps.
func WithHooks(a, b Hooks) Hooks {
	h := a
	if f, g := a.Command, b.Command; g != nil {
		h.Command = g
		if f != nil {
			h.Command = func(kind string, o bot.Outcome) { f(kind, o); g(kind, o) }
		}
	}
	if f, g := a.Xplenty, b.Xplenty; g != nil {
		h.Xplenty = g
		if f != nil {
			h.Xplenty = func(method, route string, status int, d time.Duration) {
				f(method, route, status, d)
				g(method, route, status, d)
			}
		}
	}
	if f, g := a.SlackCall, b.SlackCall; g != nil {
		h.SlackCall = g
		if f != nil {
			h.SlackCall = func(method, code string) { f(method, code); g(method, code) }
		}
	}
	if f, g := a.Tick, b.Tick; g != nil {
		h.Tick = g
		if f != nil {
			h.Tick = func(st notifier.TickStats) { f(st); g(st) }
		}
	}
	if f, g := a.Panicked, b.Panicked; g != nil {
		h.Panicked = g
		if f != nil {
			h.Panicked = func(where string) { f(where); g(where) }
		}
	}
	if f, g := a.Unreplicated, b.Unreplicated; g != nil {
		h.Unreplicated = g
		if f != nil {
			h.Unreplicated = func(what string) { f(what); g(what) }
		}
	}
	if f, g := a.Delivered, b.Delivered; g != nil {
		h.Delivered = g
		if f != nil {
			h.Delivered = func(kind string, id int64, s xplenty.Status) { f(kind, id, s); g(kind, id, s) }
		}
	}
	return h
}
