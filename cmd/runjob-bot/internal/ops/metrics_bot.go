package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/runjob/runjob/bot"
)

// botMetrics are the bot's: the commands and clicks it handled, and the
// jobs they started. Fed by Hooks.Command (bot.Config.OnCommand).
type botMetrics struct {
	commands    *prometheus.CounterVec
	jobsStarted prometheus.Counter
}

func newBotMetrics(r prometheus.Registerer) *botMetrics {
	b := &botMetrics{
		commands: counterVec("commands_total", "Slash commands (kind=command), button clicks (kind=button) and run forms submitted (kind=form) handled, by result.", "kind", "result"),
		jobsStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "jobs_started_total", Help: "Xplenty jobs started from Slack.",
		}),
	}
	r.MustRegister(b.commands, b.jobsStarted)
	return b
}

func (b *botMetrics) observeCommand(kind string, o bot.Outcome) {
	if kind != "command" && kind != "button" && kind != "form" {
		kind = "other"
	}
	b.commands.WithLabelValues(kind, o.String()).Inc()
	if o == bot.Started {
		b.jobsStarted.Inc()
	}
}
