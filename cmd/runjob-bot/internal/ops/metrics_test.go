package ops

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/xplenty"
)

// version is the build the tests' metrics report.
const version = "dev"

// scrape fetches /metrics from the real handler and parses it.
func scrapeMetrics(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample returns the value of the series of name with exactly labels
// (given as name, value pairs); ok is false when there is none. Counters,
// gauges and untyped series give their value, histograms their count.
func metricSample(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func wantMetric(t *testing.T, fams map[string]*dto.MetricFamily, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := metricSample(fams, name, labels...)
	if !ok {
		t.Errorf("%s%v: no such series", name, labels)
		return
	}
	if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func TestMetricsHooksAllSet(t *testing.T) {
	h := NewMetrics(version).Hooks()
	if h.Command == nil || h.Xplenty == nil || h.SlackCall == nil || h.Tick == nil || h.Delivered == nil || h.Panicked == nil {
		t.Errorf("Hooks() left a field nil: %+v", h)
	}
}

// wantBoundedLabels checks that no label value anywhere carries an id or a
// raw path.
func wantBoundedLabels(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	for name, f := range fams {
		for _, mm := range f.GetMetric() {
			for _, l := range mm.GetLabel() {
				if v := l.GetValue(); strings.Contains(v, "4242") || strings.Contains(v, "U123") || strings.Contains(v, "evil") {
					t.Errorf("%s has an unbounded label %s=%q", name, l.GetName(), v)
				}
			}
		}
	}
}

func TestMetricsBuildInfo(t *testing.T) {
	fams := scrapeMetrics(t, Handler(NewMetrics(version), Readiness{}, nil))
	wantMetric(t, fams, 1, "runjob_build_info", "version", version)
	if _, ok := fams["go_goroutines"]; !ok {
		t.Errorf("the Go runtime collector is missing")
	}
}

func TestMetricsLint(t *testing.T) {
	m := NewMetrics(version)
	h := m.Hooks()
	h.Command("command", bot.Started)
	h.Xplenty("GET", "/jobs", 200, time.Millisecond)
	h.SlackCall("chat.postMessage", "")
	h.Tick(notifier.TickStats{Leader: true, Active: 1, Pages: 1, Calls: 1})
	h.Delivered("reply", 1, xplenty.StatusCompleted)
	m.ObserveRateLimit(func() xplenty.RateLimit {
		return xplenty.RateLimit{Limit: 10, Remaining: 5, Observed: time.Now()}
	})
	fams, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(fams).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "runjob_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestMetricsIndependentRegistries(t *testing.T) {
	a, b := NewMetrics(version), NewMetrics(version)
	a.Hooks().Command("command", bot.Started)
	fams := scrapeMetrics(t, Handler(b, Readiness{}, nil))
	if got, _ := metricSample(fams, "runjob_jobs_started_total"); got != 0 {
		t.Errorf("a second metrics sees the first's counts: %v", got)
	}
}
