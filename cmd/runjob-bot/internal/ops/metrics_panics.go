package ops

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// panicPlaces are the values of runjob_panics_total's where label.
var panicPlaces = []string{"envelope", "tick", "delivery"}

// panicMetrics count the panics the bot, the watcher and the deliverer
// recovered from. Fed by Hooks.Panicked, through Hooks.PanicAt.
type panicMetrics struct {
	panics *prometheus.CounterVec
}

func newPanicMetrics(r prometheus.Registerer) *panicMetrics {
	p := &panicMetrics{
		panics: counterVec("panics_total", "Panics recovered while handling one envelope, one watcher tick or one delivery; the bot kept serving.", "where"),
	}
	r.MustRegister(p.panics)
	// Series that alerts and rate() use exist from the start, at 0.
	for _, w := range panicPlaces {
		p.panics.WithLabelValues(w)
	}
	return p
}

func (p *panicMetrics) observePanic(where string) {
	if !slices.Contains(panicPlaces, where) {
		where = "other"
	}
	p.panics.WithLabelValues(where).Inc()
}
