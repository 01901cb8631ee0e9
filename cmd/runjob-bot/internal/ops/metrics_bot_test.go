package ops

import (
	"testing"

	"github.com/runjob/runjob/bot"
)

func TestMetricsCommands(t *testing.T) {
	m := NewMetrics(version)
	h := m.Hooks()

	h.Command("command", bot.Started)
	h.Command("command", bot.Started)
	h.Command("button", bot.Started)
	h.Command("command", bot.Denied)
	h.Command("button", bot.CannotPost)
	h.Command("command", bot.Outcome(200)) // not an outcome
	h.Command("modal", bot.Help)           // unknown kind
	h.Command("form", bot.Started)

	fams := scrapeMetrics(t, Handler(m, Readiness{}, nil))

	wantMetric(t, fams, 2, "runjob_commands_total", "kind", "command", "result", "started")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "button", "result", "started")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "command", "result", "denied")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "button", "result", "cannot_post")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "command", "result", "other")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "other", "result", "help")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "form", "result", "started")
	wantMetric(t, fams, 4, "runjob_jobs_started_total")
	wantBoundedLabels(t, fams)
}
