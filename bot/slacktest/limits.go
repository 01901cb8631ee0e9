package slacktest

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"time"
)

// Limits are the rate limits the fake enforces when they are switched on
// (Options.Limits or SetLimits), the way Slack does: a call beyond them is
// answered HTTP 429 with a Retry-After header in whole seconds and
// {"ok":false,"error":"ratelimited"}, and changes nothing.
//
// Slack allows chat.postMessage about one message per second per channel with
// short bursts (https://docs.slack.dev/reference/methods/chat.postMessage, "Rate
// limits"); chat.update and conversations.replies are Tier 3 methods: about 50
// calls a minute per app and workspace
// (https://docs.slack.dev/apis/web-api/rate-limits). A zero rate leaves its
// method unlimited.
type Limits struct {
	// PostPerSecond and PostBurst pace chat.postMessage per channel.
	PostPerSecond float64
	PostBurst     int
	// UpdatePerMinute and UpdateBurst pace chat.update in the workspace.
	UpdatePerMinute float64
	UpdateBurst     int
	// RepliesPerMinute and RepliesBurst pace conversations.replies in the
	// workspace.
	RepliesPerMinute float64
	RepliesBurst     int
}

// DefaultLimits are Slack's published limits, with the short bursts Slack
// tolerates.
func DefaultLimits() Limits {
	return Limits{PostPerSecond: 1, PostBurst: 4, UpdatePerMinute: 50, UpdateBurst: 5,
		RepliesPerMinute: 50, RepliesBurst: 5}
}

// SetLimits switches the enforced limits on (or, with nil, off) from now on;
// the pacing state starts afresh.
func (s *Server) SetLimits(l *Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLimitsLocked(l)
}

func (s *Server) setLimitsLocked(l *Limits) {
	s.limits = nil
	s.tat = map[string]time.Time{}
	if l != nil {
		c := *l
		s.limits = &c
	}
}

// limitLocked applies the enforced limits to a call of method arriving at now.
// It returns how long the caller must wait, 0 when the call may go ahead (and
// then counts it). The caller holds s.mu.
func (s *Server) limitLocked(method string, p url.Values, now time.Time) time.Duration {
	if s.limits == nil {
		return 0
	}
	var key string
	var per float64
	var burst int
	switch method {
	case "chat.postMessage":
		key, per, burst = "post:"+p.Get("channel"), s.limits.PostPerSecond, s.limits.PostBurst
	case "chat.update":
		key, per, burst = "update", s.limits.UpdatePerMinute/60, s.limits.UpdateBurst
	case "conversations.replies":
		key, per, burst = "replies", s.limits.RepliesPerMinute/60, s.limits.RepliesBurst
	default:
		return 0
	}
	if per <= 0 {
		return 0
	}
	// GCRA: a call is allowed when the theoretical arrival time it would
	// leave lies no more than burst intervals ahead.
	interval := time.Duration(float64(time.Second) / per)
	tat := s.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if wait := next.Sub(now) - time.Duration(max(burst, 1))*interval; wait > 0 {
		return wait
	}
	s.tat[key] = next
	return 0
}

// limitScope is what a 429 of c applies to: chat.postMessage is limited per
// channel, other methods for the whole workspace.
func limitScope(c Call) string {
	if c.Method == "chat.postMessage" {
		return c.Method + " " + c.Params.Get("channel")
	}
	return c.Method
}

// Violation is a call that arrived while an earlier 429 of its method (and,
// for chat.postMessage, its channel) told the caller to wait.
type Violation struct {
	Limited Call // the 429
	Call    Call // the call inside its Retry-After
}

func (v Violation) String() string {
	return fmt.Sprintf("%s came %s after a 429 with Retry-After %s", limitScope(v.Call),
		v.Call.Time.Sub(v.Limited.Time).Round(time.Millisecond), v.Limited.RetryAfter)
}

// inFlight is how long after a 429 a call in its scope is still taken for
// one the client had sent before it could see the 429: concurrent calls
// (two replicas posting at once) arrive within a millisecond of each other,
// and a pause takes a Redis round trip to reach the other replicas. A
// client that ignores Retry-After still calls later in the window.
const inFlight = 200 * time.Millisecond

// RetryAfterViolations returns every call that arrived inside the Retry-After
// of an earlier 429 in its scope (see Violation), later than inFlight after
// it; a well-behaved client has none.
func (snap *Snapshot) RetryAfterViolations() []Violation {
	// Calls are recorded as they are answered; concurrent ones may arrive
	// in another order.
	calls := slices.Clone(snap.calls)
	slices.SortStableFunc(calls, func(a, b Call) int { return a.Time.Compare(b.Time) })
	var out []Violation
	until := map[string]Call{} // scope -> the 429 whose window ends last
	for _, c := range calls {
		scope := limitScope(c)
		if l, ok := until[scope]; ok && c.Time.After(l.Time.Add(inFlight)) && c.Time.Before(l.Time.Add(l.RetryAfter)) {
			out = append(out, Violation{Limited: l, Call: c})
		}
		if c.Status == 429 {
			if l, ok := until[scope]; !ok || c.Time.Add(c.RetryAfter).After(l.Time.Add(l.RetryAfter)) {
				until[scope] = c
			}
		}
	}
	return out
}

// retryAfterSeconds is the Retry-After Slack sends for a wait: whole
// seconds, rounded up, at least 1 unless the wait is zero.
func retryAfterSeconds(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}
