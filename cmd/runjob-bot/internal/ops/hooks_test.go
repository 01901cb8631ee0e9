package ops

import (
	"strings"
	"testing"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/xplenty"
)

func TestMetricsWithHooks(t *testing.T) {
	var calls []string
	caller := Hooks{
		Command: func(_ string, o bot.Outcome) { calls = append(calls, "caller command "+o.String()) },
		Tick:    func(notifier.TickStats) { calls = append(calls, "caller tick") },
	}
	m := NewMetrics(version)
	h := WithHooks(caller, m.Hooks())
	if h.Command == nil || h.Xplenty == nil || h.SlackCall == nil || h.Tick == nil || h.Delivered == nil || h.Panicked == nil {
		t.Fatalf("WithHooks left a field nil: %+v", h)
	}
	h.Command("command", bot.Started)
	h.Tick(notifier.TickStats{Leader: true, Active: 4, Pages: 1, Calls: 1})
	h.Delivered("reply", 1, xplenty.StatusStopped)
	if want := []string{"caller command started", "caller tick"}; strings.Join(calls, "|") != strings.Join(want, "|") {
		t.Errorf("the caller's Hooks saw %q, want %q", calls, want)
	}
	fams := scrapeMetrics(t, Handler(m, Readiness{}, nil))
	wantMetric(t, fams, 1, "runjob_jobs_started_total")
	wantMetric(t, fams, 4, "runjob_tracked_jobs")
	wantMetric(t, fams, 1, "runjob_jobs_finished_total", "status", "stopped")

	if h := WithHooks(Hooks{}, Hooks{}); h.Command != nil || h.Tick != nil {
		t.Errorf("WithHooks of nothing set something")
	}
}
