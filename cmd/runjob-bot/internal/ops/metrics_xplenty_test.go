package ops

import (
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
)

func TestMetricsXplentyRequests(t *testing.T) {
	m := NewMetrics(version)
	h := m.Hooks()

	h.Xplenty("GET", "/jobs/{id}", 200, 120*time.Millisecond)
	h.Xplenty("GET", "/jobs/{id}", 200, 80*time.Millisecond)
	h.Xplenty("GET", "/jobs/{id}", 429, time.Second)
	h.Xplenty("POST", "/jobs", 0, 30*time.Second)
	h.Xplenty("GET", "/jobs/4242", 500, time.Millisecond) // a raw path
	h.Xplenty("BREW", "/jobs", 418, time.Millisecond)

	fams := scrapeMetrics(t, Handler(m, Readiness{}, nil))

	wantMetric(t, fams, 2, "runjob_xplenty_requests_total", "method", "GET", "route", "/jobs/{id}", "code", "200")
	wantMetric(t, fams, 1, "runjob_xplenty_requests_total", "method", "GET", "route", "/jobs/{id}", "code", "429")
	wantMetric(t, fams, 1, "runjob_xplenty_requests_total", "method", "POST", "route", "/jobs", "code", "error")
	wantMetric(t, fams, 1, "runjob_xplenty_requests_total", "method", "GET", "route", "other", "code", "500")
	wantMetric(t, fams, 1, "runjob_xplenty_requests_total", "method", "OTHER", "route", "/jobs", "code", "418")
	wantMetric(t, fams, 3, "runjob_xplenty_request_duration_seconds", "method", "GET", "route", "/jobs/{id}")
	wantMetric(t, fams, 1, "runjob_xplenty_request_duration_seconds", "method", "POST", "route", "/jobs")
	if f := fams["runjob_xplenty_request_duration_seconds"]; f != nil {
		for _, mm := range f.GetMetric() {
			if mm.GetLabel()[0].GetValue() == "GET" && mm.GetLabel()[1].GetValue() == "/jobs/{id}" {
				if got := mm.GetHistogram().GetSampleSum(); got < 1.19 || got > 1.21 {
					t.Errorf("GET /jobs/{id} duration sum = %v, want 1.2", got)
				}
			}
		}
	}
	wantBoundedLabels(t, fams)
}

func TestMetricsRateLimit(t *testing.T) {
	m := NewMetrics(version)
	var mu sync.Mutex
	var rl xplenty.RateLimit
	m.ObserveRateLimit(func() xplenty.RateLimit { mu.Lock(); defer mu.Unlock(); return rl })
	handler := Handler(m, Readiness{}, nil)

	fams := scrapeMetrics(t, handler)
	for _, name := range []string{"runjob_xplenty_ratelimit_limit", "runjob_xplenty_ratelimit_remaining"} {
		if _, ok := metricSample(fams, name); ok {
			t.Errorf("%s is exported before any answer carried the headers", name)
		}
	}

	observed := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	mu.Lock()
	rl = xplenty.RateLimit{Limit: 60, Remaining: 17, Observed: observed}
	mu.Unlock()
	fams = scrapeMetrics(t, handler)
	wantMetric(t, fams, 60, "runjob_xplenty_ratelimit_limit")
	wantMetric(t, fams, 17, "runjob_xplenty_ratelimit_remaining")
	wantMetric(t, fams, float64(observed.Unix()), "runjob_xplenty_ratelimit_observed_timestamp_seconds")

	mu.Lock()
	rl.Remaining = 0
	mu.Unlock()
	wantMetric(t, scrapeMetrics(t, handler), 0, "runjob_xplenty_ratelimit_remaining")
}
