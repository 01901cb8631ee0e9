package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/runjob/runjob/xplenty"
)

// ObserveRateLimit exports the Xplenty budget, read from rl at scrape time
// (e.g. xp.RateLimit). Until an answer carried the headers the gauges are
// absent rather than 0, so "remaining == 0" alerts do not fire at start-up.
// Call it once per Metrics.
func (m *Metrics) ObserveRateLimit(rl func() xplenty.RateLimit) {
	m.registry.MustRegister(rateLimitCollector{read: rl})
}

var (
	rateLimitLimitDesc = prometheus.NewDesc(metricsNamespace+"_xplenty_ratelimit_limit",
		"X-RateLimit-Limit of the last Xplenty answer that carried it.", nil, nil)
	rateLimitRemainingDesc = prometheus.NewDesc(metricsNamespace+"_xplenty_ratelimit_remaining",
		"X-RateLimit-Remaining of the last Xplenty answer that carried it.", nil, nil)
	rateLimitObservedDesc = prometheus.NewDesc(metricsNamespace+"_xplenty_ratelimit_observed_timestamp_seconds",
		"Unix time the Xplenty rate-limit headers were last read.", nil, nil)
)

type rateLimitCollector struct{ read func() xplenty.RateLimit }

func (c rateLimitCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- rateLimitLimitDesc
	ch <- rateLimitRemainingDesc
	ch <- rateLimitObservedDesc
}

func (c rateLimitCollector) Collect(ch chan<- prometheus.Metric) {
	rl := c.read()
	if rl.Observed.IsZero() {
		return
	}
	ch <- prometheus.MustNewConstMetric(rateLimitLimitDesc, prometheus.GaugeValue, float64(rl.Limit))
	ch <- prometheus.MustNewConstMetric(rateLimitRemainingDesc, prometheus.GaugeValue, float64(rl.Remaining))
	ch <- prometheus.MustNewConstMetric(rateLimitObservedDesc, prometheus.GaugeValue, float64(rl.Observed.UnixNano())/1e9)
}
