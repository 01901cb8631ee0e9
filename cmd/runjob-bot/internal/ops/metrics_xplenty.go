package ops

import (
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/runjob/runjob/xplenty"
)

// xplentyMetrics are the Xplenty client's: its HTTP exchanges and their
// durations, fed by Hooks.Xplenty (xplenty.Config.OnResponse). Its API
// budget, read at scrape time, is added by ObserveRateLimit.
type xplentyMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newXplentyMetrics(r prometheus.Registerer) *xplentyMetrics {
	x := &xplentyMetrics{
		requests: counterVec("xplenty_requests_total", "HTTP exchanges with the Xplenty API, retries included; code is the HTTP status or \"error\" when no answer came.", "method", "route", "code"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "xplenty_request_duration_seconds",
			Help:    "Time from sending an Xplenty API request to having read its answer.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route"}),
	}
	r.MustRegister(x.requests, x.duration)
	return x
}

func (x *xplentyMetrics) observeRequest(method, route string, status int, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
	default:
		method = "OTHER"
	}
	route = boundedRoute(route)
	code := "error"
	switch {
	case status >= 100 && status <= 599:
		code = strconv.Itoa(status)
	case status != 0:
		code = "other"
	}
	x.requests.WithLabelValues(method, route, code).Inc()
	x.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

var routeRE = regexp.MustCompile(`^/[a-z_/{}]{0,63}$`) // templates only: no ids

func boundedRoute(s string) string {
	if routeRE.MatchString(s) {
		return s
	}
	return "other"
}

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
