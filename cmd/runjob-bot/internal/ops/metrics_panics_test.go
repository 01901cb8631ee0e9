package ops

import "testing"

func TestMetricsPanics(t *testing.T) {
	m := NewMetrics(version)
	h := m.Hooks()
	h.Panicked("envelope")
	h.Panicked("delivery")
	h.Panicked("delivery")
	h.Panicked("somewhere 4242")
	fams := scrapeMetrics(t, Handler(m, Readiness{}, nil))
	wantMetric(t, fams, 1, "runjob_panics_total", "where", "envelope")
	wantMetric(t, fams, 0, "runjob_panics_total", "where", "tick") // exists before the first
	wantMetric(t, fams, 2, "runjob_panics_total", "where", "delivery")
	wantMetric(t, fams, 1, "runjob_panics_total", "where", "other")
}
