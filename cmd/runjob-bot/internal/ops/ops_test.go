package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/store"
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

func TestMetricsCommandsCallsDeliveries(t *testing.T) {
	m := NewMetrics(version)
	h := m.Hooks()

	h.Command("command", bot.Started)
	h.Command("command", bot.Started)
	h.Command("button", bot.Started)
	h.Command("command", bot.Denied)
	h.Command("button", bot.CannotPost)
	h.Command("command", bot.Outcome(200)) // not an outcome
	h.Command("modal", bot.Help)           // unknown kind

	h.Xplenty("GET", "/jobs/{id}", 200, 120*time.Millisecond)
	h.Xplenty("GET", "/jobs/{id}", 200, 80*time.Millisecond)
	h.Xplenty("GET", "/jobs/{id}", 429, time.Second)
	h.Xplenty("POST", "/jobs", 0, 30*time.Second)
	h.Xplenty("GET", "/jobs/4242", 500, time.Millisecond) // a raw path
	h.Xplenty("BREW", "/jobs", 418, time.Millisecond)

	h.SlackCall("chat.postMessage", "")
	h.SlackCall("chat.postMessage", "")
	h.SlackCall("chat.postMessage", "ratelimited")
	h.SlackCall("chat.update", "ratelimited")
	h.SlackCall("chat.postMessage", "not_in_channel")
	h.SlackCall("chat.update", "some_new_code")
	h.SlackCall("chat.update", "http_503")
	h.SlackCall("conversations.replies", "http_404")
	h.SlackCall("https://evil/4242", "")

	h.Delivered("card", 4242, xplenty.StatusRunning)
	h.Delivered("card", 4243, xplenty.StatusQueued)
	h.Delivered("reply", 4242, xplenty.StatusCompleted)
	h.Delivered("reply", 4243, xplenty.StatusFailed)
	h.Delivered("reply", 4244, xplenty.StatusFailed)
	h.Delivered("reply", 4245, xplenty.Status("weird"))
	h.Delivered("bogus", 4246, xplenty.StatusStopped)

	fams := scrapeMetrics(t, Handler(m, Readiness{}))

	wantMetric(t, fams, 2, "runjob_commands_total", "kind", "command", "result", "started")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "button", "result", "started")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "command", "result", "denied")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "button", "result", "cannot_post")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "command", "result", "other")
	wantMetric(t, fams, 1, "runjob_commands_total", "kind", "other", "result", "help")
	wantMetric(t, fams, 3, "runjob_jobs_started_total")

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

	wantMetric(t, fams, 2, "runjob_slack_calls_total", "method", "chat.postMessage", "result", "ok")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.postMessage", "result", "ratelimited")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.update", "result", "ratelimited")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.postMessage", "result", "not_in_channel")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.update", "result", "error")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.update", "result", "http_5xx")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "conversations.replies", "result", "http_4xx")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "other", "result", "ok")
	wantMetric(t, fams, 1, "runjob_slack_ratelimited_total", "method", "chat.postMessage")
	wantMetric(t, fams, 1, "runjob_slack_ratelimited_total", "method", "chat.update")

	wantMetric(t, fams, 2, "runjob_deliveries_total", "kind", "card")
	wantMetric(t, fams, 4, "runjob_deliveries_total", "kind", "reply")
	wantMetric(t, fams, 1, "runjob_deliveries_total", "kind", "other")
	wantMetric(t, fams, 1, "runjob_jobs_finished_total", "status", "completed")
	wantMetric(t, fams, 2, "runjob_jobs_finished_total", "status", "failed")
	wantMetric(t, fams, 0, "runjob_jobs_finished_total", "status", "stopped") // exists before the first
	wantMetric(t, fams, 1, "runjob_jobs_finished_total", "status", "other")

	wantMetric(t, fams, 1, "runjob_build_info", "version", version)
	if _, ok := fams["go_goroutines"]; !ok {
		t.Errorf("the Go runtime collector is missing")
	}

	// No label value anywhere carries an id or a raw path.
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

// opsClock is the metrics' clock in tests.
type opsClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *opsClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *opsClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMetricsWatcherTicksAndLag(t *testing.T) {
	m := NewMetrics(version)
	clock := &opsClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	m.now = clock.Now
	h := m.Hooks()
	handler := Handler(m, Readiness{})

	type want struct{ lag, leader, tracked, lastPoll float64 }
	check := func(step string, w want) {
		t.Helper()
		fams := scrapeMetrics(t, handler)
		for _, c := range []struct {
			name string
			want float64
		}{
			{"runjob_watcher_lag_seconds", w.lag},
			{"runjob_watcher_leader", w.leader},
			{"runjob_tracked_jobs", w.tracked},
			{"runjob_watcher_last_poll_timestamp_seconds", w.lastPoll},
		} {
			got, ok := metricSample(fams, c.name)
			if !ok || got != c.want {
				t.Errorf("%s: %s = %v (present %v), want %v", step, c.name, got, ok, c.want)
			}
		}
	}
	t0 := float64(clock.Now().Unix())

	check("start", want{})
	h.Tick(notifier.TickStats{}) // another replica holds the lease
	clock.Add(time.Minute)
	check("follower", want{})

	h.Tick(notifier.TickStats{Leader: true, Active: 3, Calls: 2, Pages: 1, Listed: 40, Changes: 1})
	check("first poll", want{lag: 0, leader: 1, tracked: 3, lastPoll: t0 + 60})
	clock.Add(7 * time.Second)
	check("7 s later", want{lag: 7, leader: 1, tracked: 3, lastPoll: t0 + 60})

	// The change list could not be read: the lag keeps growing.
	h.Tick(notifier.TickStats{Leader: true, Active: 3, Calls: 1})
	clock.Add(5 * time.Second)
	check("after a failed poll", want{lag: 12, leader: 1, tracked: 3, lastPoll: t0 + 60})

	// Nothing to follow is up to date.
	h.Tick(notifier.TickStats{Leader: true, Active: 0})
	clock.Add(2 * time.Second)
	check("idle", want{lag: 2, leader: 1, tracked: 0, lastPoll: t0 + 72})

	// Losing the lease: lag 0 here, the new leader reports it.
	h.Tick(notifier.TickStats{})
	clock.Add(time.Hour)
	check("lease lost", want{lag: 0, leader: 0, tracked: 0, lastPoll: t0 + 72})

	// Regaining it: the lag counts from the takeover, not from the old poll,
	// even when the first poll fails.
	h.Tick(notifier.TickStats{Leader: true, Active: 2, Calls: 1})
	clock.Add(3 * time.Second)
	check("takeover, failing", want{lag: 3, leader: 1, tracked: 2, lastPoll: t0 + 72})

	fams := scrapeMetrics(t, handler)
	wantMetric(t, fams, 1, "runjob_watcher_polls_total", "result", "ok")
	wantMetric(t, fams, 2, "runjob_watcher_polls_total", "result", "failed")
	wantMetric(t, fams, 1, "runjob_watcher_polls_total", "result", "idle")
	wantMetric(t, fams, 2, "runjob_watcher_polls_total", "result", "follower")
	wantMetric(t, fams, 4, "runjob_watcher_xplenty_calls_per_tick") // leader ticks only
	if f := fams["runjob_watcher_xplenty_calls_per_tick"]; f != nil && len(f.GetMetric()) == 1 {
		if got := f.GetMetric()[0].GetHistogram().GetSampleSum(); got != 4 {
			t.Errorf("calls per tick sum = %v, want 4", got)
		}
	}
}

func TestMetricsRateLimit(t *testing.T) {
	m := NewMetrics(version)
	var mu sync.Mutex
	var rl xplenty.RateLimit
	m.ObserveRateLimit(func() xplenty.RateLimit { mu.Lock(); defer mu.Unlock(); return rl })
	handler := Handler(m, Readiness{})

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

func TestMetricsIndependentRegistries(t *testing.T) {
	a, b := NewMetrics(version), NewMetrics(version)
	a.Hooks().Command("command", bot.Started)
	fams := scrapeMetrics(t, Handler(b, Readiness{}))
	if got, _ := metricSample(fams, "runjob_jobs_started_total"); got != 0 {
		t.Errorf("a second metrics sees the first's counts: %v", got)
	}
}

func opsGet(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthz(t *testing.T) {
	h := Handler(NewMetrics(version), Readiness{
		Slack: func() bool { return false },
		Redis: func(context.Context) error { return errors.New("down") },
	})
	// Alive even when not ready.
	if code, body := opsGet(t, h, http.MethodGet, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\"", code, body)
	}
	if code, _ := opsGet(t, h, http.MethodHead, "/healthz"); code != http.StatusOK {
		t.Errorf("HEAD /healthz = %d, want 200", code)
	}
	if code, _ := opsGet(t, h, http.MethodPost, "/healthz"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", code)
	}
	if code, _ := opsGet(t, h, http.MethodGet, "/healthz/x"); code != http.StatusNotFound {
		t.Errorf("GET /healthz/x = %d, want 404", code)
	}
	if code, _ := opsGet(t, h, http.MethodGet, "/"); code != http.StatusNotFound {
		t.Errorf("GET / = %d, want 404", code)
	}
}

// opsRedisReplyErr stands for an error reply of the Redis server.
type opsRedisReplyErr string

func (e opsRedisReplyErr) Error() string { return string(e) }
func (opsRedisReplyErr) RedisError()     {}

func TestReadyz(t *testing.T) {
	const secret = "s3cret-pw"
	refused := fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Net: "tcp",
		Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 6379},
		Err:  &net.OpError{Op: "connect", Err: syscall.ECONNREFUSED}})
	up := func() bool { return true }
	down := func() bool { return false }
	ok := func(context.Context) error { return nil }
	fail := func(err error) func(context.Context) error {
		return func(context.Context) error { return err }
	}
	for _, c := range []struct {
		name  string
		r     Readiness
		code  int
		body  string
		avoid []string
	}{
		{"all fine", Readiness{Slack: up, Redis: ok}, 200, "ready\n", nil},
		{"slack down", Readiness{Slack: down, Redis: ok}, 503, "slack: not connected\n", nil},
		{"redis refused", Readiness{Slack: up, Redis: fail(refused)}, 503, "redis: connection refused\n", []string{"10.1.2.3", "6379"}},
		{"redis auth", Readiness{Slack: up, Redis: fail(opsRedisReplyErr("WRONGPASS invalid username-password pair " + secret))}, 503, "redis: server error WRONGPASS\n", []string{secret}},
		{"redis url in error", Readiness{Slack: up, Redis: fail(errors.New("redis://:" + secret + "@redis:6379/0 unreachable"))}, 503, "redis: unavailable\n", []string{secret}},
		{"both down", Readiness{Slack: down, Redis: fail(redis.ErrClosed)}, 503, "slack: not connected\nredis: client closed\n", nil},
		{"redis hangs", Readiness{Slack: up, Redis: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}}, 503, "redis: timeout\n", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := opsGet(t, Handler(NewMetrics(version), c.r), http.MethodGet, "/readyz")
			if code != c.code || body != c.body {
				t.Errorf("GET /readyz = %d %q, want %d %q", code, body, c.code, c.body)
			}
			for _, s := range c.avoid {
				if strings.Contains(body, s) {
					t.Errorf("GET /readyz tells %q: %q", s, body)
				}
			}
		})
	}
}

func TestReadyzRedisDeadline(t *testing.T) {
	var deadline time.Duration
	var hasDeadline bool
	h := Handler(nil, Readiness{Redis: func(ctx context.Context) error {
		var d time.Time
		d, hasDeadline = ctx.Deadline()
		deadline = time.Until(d)
		return nil
	}})
	if code, _ := opsGet(t, h, http.MethodGet, "/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200", code)
	}
	if !hasDeadline || deadline > readyRedisTimeout {
		t.Errorf("the Redis check has deadline %v (set %v), want at most %v", deadline, hasDeadline, readyRedisTimeout)
	}
}

func TestReadyRedisProblemClasses(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "timeout"},
		{fmt.Errorf("ping: %w", context.DeadlineExceeded), "timeout"},
		{&net.OpError{Op: "read", Err: opsTimeoutErr{}}, "timeout"},
		{&net.DNSError{Err: "no such host", Name: "redis.internal", IsNotFound: true}, "cannot resolve host"},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "connection refused"},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, "connection lost"},
		{io.EOF, "connection lost"},
		{redis.ErrPoolTimeout, "connection pool exhausted"},
		{opsRedisReplyErr("LOADING Redis is loading the dataset in memory"), "server error LOADING"},
		{opsRedisReplyErr("weird"), "server error"},
		{errors.New("something else at redis://:pw@host"), "unavailable"},
	} {
		if got := redisProblem(c.err); got != c.want {
			t.Errorf("redisProblem(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

type opsTimeoutErr struct{}

func (opsTimeoutErr) Error() string   { return "i/o timeout" }
func (opsTimeoutErr) Timeout() bool   { return true }
func (opsTimeoutErr) Temporary() bool { return true }

func TestReadyzRealRedis(t *testing.T) {
	rdb, _ := redistest.Client(t)
	ping := func(ctx context.Context) error { return rdb.Ping(ctx).Err() }
	h := Handler(NewMetrics(version), Readiness{Slack: func() bool { return true }, Redis: ping})
	if code, body := opsGet(t, h, http.MethodGet, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("GET /readyz with a real Redis = %d %q, want 200 \"ready\"", code, body)
	}

	// A server error reply is named by its code word only.
	err := rdb.Do(context.Background(), "NO-SUCH-COMMAND").Err()
	if got := redisProblem(err); got != "server error ERR" {
		t.Errorf("redisProblem(%v) = %q, want \"server error ERR\"", err, got)
	}

	// Nothing listens on a port just released.
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	addr := ln.Addr().String()
	ln.Close()
	gone := redis.NewClient(&redis.Options{Addr: addr, Password: "s3cret-pw", MaxRetries: -1})
	defer gone.Close()
	h = Handler(NewMetrics(version), Readiness{Slack: func() bool { return true }, Redis: func(ctx context.Context) error { return gone.Ping(ctx).Err() }})
	code, body := opsGet(t, h, http.MethodGet, "/readyz")
	if code != http.StatusServiceUnavailable || body != "redis: connection refused\n" {
		t.Errorf("GET /readyz with no Redis = %d %q, want 503 \"redis: connection refused\"", code, body)
	}
	if strings.Contains(body, addr) || strings.Contains(body, "s3cret") {
		t.Errorf("GET /readyz tells the address or password: %q", body)
	}
}

func TestServeOpsServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", Handler(NewMetrics(version), Readiness{}))
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	addr, wait, err := Serve(ctx, "127.0.0.1:0", mux, nil)
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	base := "http://" + addr.String()
	client := &http.Client{Timeout: 10 * time.Second}

	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}

	// A request in flight when ctx ends is finished, not cut.
	type answer struct {
		body string
		err  error
	}
	slow := make(chan answer, 1)
	go func() {
		resp, err := client.Get(base + "/slow")
		if err != nil {
			slow <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- answer{string(b), err}
	}()
	<-entered
	cancel()
	close(release)
	if a := <-slow; a.err != nil || a.body != "done" {
		t.Errorf("request in flight at shutdown: %q, %v; want \"done\"", a.body, a.err)
	}
	if err := wait(); err != nil {
		t.Errorf("wait after shutdown: %v", err)
	}
	client.CloseIdleConnections()
	if resp, err := client.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("the server still answers after shutdown")
	}
}

func TestServeOpsPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr, wait, err := Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler(), nil)
	if err == nil {
		t.Fatalf("Serve on a taken port = %v, nil; want an error", addr)
	}
	if wait != nil || addr != nil {
		t.Errorf("Serve failed but returned an address or wait")
	}
	if !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error %q does not name the address", err)
	}
}

func TestServeOpsBadAddress(t *testing.T) {
	if _, _, err := Serve(context.Background(), "not-an-address", http.NotFoundHandler(), nil); err == nil {
		t.Errorf("Serve(\"not-an-address\") succeeded")
	}
}

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
	fams := scrapeMetrics(t, Handler(m, Readiness{}))
	wantMetric(t, fams, 1, "runjob_jobs_started_total")
	wantMetric(t, fams, 4, "runjob_tracked_jobs")
	wantMetric(t, fams, 1, "runjob_jobs_finished_total", "status", "stopped")

	if h := WithHooks(Hooks{}, Hooks{}); h.Command != nil || h.Tick != nil {
		t.Errorf("WithHooks of nothing set something")
	}
}

// The queue gauges read the shared queues in Redis: a finished job has a
// reply waiting and its card due.
func TestMetricsQueues(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	store, err := store.New(rdb, store.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Track(ctx, job.Record{JobID: 7, Channel: "C1", CardTS: "1.000001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Observe(ctx, xplenty.Job{ID: 7, Status: xplenty.StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(version)
	m.ObserveQueues(store.Queues)
	fams := scrapeMetrics(t, Handler(m, Readiness{}))
	wantMetric(t, fams, 1, "runjob_queue_depth", "queue", "replies")
	wantMetric(t, fams, 1, "runjob_queue_depth", "queue", "cards_pending")
	wantMetric(t, fams, 1, "runjob_queue_depth", "queue", "cards_due")
	for _, kind := range []string{"reply", "card"} {
		if v, ok := metricSample(fams, "runjob_queue_oldest_age_seconds", "kind", kind); !ok || v < 0 || v > 60 {
			t.Errorf("oldest %s age = %v (%v), want a few seconds at most", kind, v, ok)
		}
	}
	fs, _ := m.registry.Gather()
	problems, _ := promlint.NewWithMetricFamilies(fs).Lint()
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "runjob_queue") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}
