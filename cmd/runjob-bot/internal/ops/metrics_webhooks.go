package ops

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// hookResults are the values of runjob_xplenty_hooks_total's result label.
var hookResults = []string{"ok", "unauthorized", "bad_method", "failed"}

// webhookMetrics count Xplenty's web hooks received on HookPath. Fed by
// the receiver itself (webhook.go), not by a Hooks field: it lives here.
type webhookMetrics struct {
	hooks *prometheus.CounterVec
}

func newWebhookMetrics(r prometheus.Registerer) *webhookMetrics {
	w := &webhookMetrics{
		hooks: counterVec("xplenty_hooks_total", "Xplenty web hooks received on "+HookPath+", by result: ok (the watcher was woken), "+
			"unauthorized (wrong or missing credentials), bad_method (not a POST), failed (the wake-up could not be published).", "result"),
	}
	r.MustRegister(w.hooks)
	for _, res := range hookResults {
		w.hooks.WithLabelValues(res)
	}
	return w
}

func (w *webhookMetrics) observe(result string) {
	if !slices.Contains(hookResults, result) {
		result = "other"
	}
	w.hooks.WithLabelValues(result).Inc()
}
