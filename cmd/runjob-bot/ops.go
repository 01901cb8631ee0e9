package main

// The operations endpoint: HTTP_ADDR serves /healthz, /readyz and /metrics.
//
// Metrics (namespace runjob). Label values are always from small, fixed
// sets – never job ids, user ids, channels or raw paths – so that series
// cannot grow without bound:
//
//	runjob_commands_total{kind,result}          commands ("command") and clicks ("button") by outcome
//	runjob_jobs_started_total                   commands and clicks that started a job
//	runjob_jobs_finished_total{status}          terminal replies posted: completed, failed, stopped
//	runjob_deliveries_total{kind}               messages delivered: card (edits, from the cards set), reply (outbox)
//	runjob_xplenty_requests_total{method,route,code}    HTTP exchanges, retries included; code "error" when no answer came
//	runjob_xplenty_request_duration_seconds{method,route}
//	runjob_xplenty_ratelimit_limit / _remaining / _observed_timestamp_seconds
//	                                            the API budget as of the last answer; absent until one was seen
//	runjob_slack_calls_total{method,result}     Web API calls: "ok", "ratelimited", a known Slack error code,
//	                                            "http_4xx"/"http_5xx", or "error"
//	runjob_slack_ratelimited_total{method}      429s from Slack
//	runjob_watcher_leader                       1 while this replica holds the polling lease
//	runjob_tracked_jobs                         jobs being followed, as the leader counts them; 0 on other replicas
//	                                            (so sum() and max() across replicas both give the number)
//	runjob_watcher_polls_total{result}          ticks: "ok", "idle" (nothing to follow), "failed" (the change list
//	                                            could not be read), "follower" (another replica polls)
//	runjob_watcher_xplenty_calls_per_tick       Xplenty calls per tick while leader
//	runjob_watcher_job_problems_total{kind}     one job's trouble, which costs only that job: "read_failed" (its
//	                                            read was answered 403, 5xx or undecodable; it backs off alone),
//	                                            "given_up" (not found or unreadable too often; a note is posted),
//	                                            "undecodable" (a job of the change list skipped)
//	runjob_watcher_last_poll_timestamp_seconds  when this replica last polled successfully (ok or idle)
//	runjob_watcher_lag_seconds                  while this replica is the leader: seconds since its last
//	                                            successful poll, or since it became leader if none succeeded
//	                                            since; 0 when it is not the leader. It is read at scrape time,
//	                                            so a watcher that hangs shows a growing lag. It normally
//	                                            stays below POLL_INTERVAL plus one tick; alert on, say,
//	                                            max(runjob_watcher_lag_seconds) > 5 * POLL_INTERVAL.
//	runjob_panics_total{where}                  panics recovered while handling one envelope, one watcher tick
//	                                            or one delivery (where: envelope, tick, delivery); each is a bug,
//	                                            logged with its stack: alert on any increase
//	runjob_queue_depth{queue}, runjob_queue_oldest_age_seconds{kind}
//	                                            the delivery queues (see ops_queues.go)
//	runjob_build_info{version}                  1
//
// plus the standard go_* and process_* collectors.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/xplenty"
)

const (
	metricsNamespace = "runjob"
	// readyRedisTimeout bounds the Redis check of /readyz.
	readyRedisTimeout = time.Second
	// opsShutdownGrace bounds the graceful stop of the ops server; it is
	// well inside the process' 10 s budget.
	opsShutdownGrace = 2 * time.Second
)

// metrics holds every collector, on a registry of its own (tests create
// many; the global registry is never used).
type metrics struct {
	registry *prometheus.Registry
	now      func() time.Time // the clock of the watcher gauges; tests replace it

	commands        *prometheus.CounterVec
	jobsStarted     prometheus.Counter
	jobsFinished    *prometheus.CounterVec
	deliveries      *prometheus.CounterVec
	xplentyRequests *prometheus.CounterVec
	xplentyDuration *prometheus.HistogramVec
	slackCalls      *prometheus.CounterVec
	slackLimited    *prometheus.CounterVec
	leader          prometheus.Gauge
	tracked         prometheus.Gauge
	polls           *prometheus.CounterVec
	callsPerTick    prometheus.Histogram
	jobProblems     *prometheus.CounterVec
	lastPoll        prometheus.Gauge
	panics          *prometheus.CounterVec

	mu          sync.Mutex
	isLeader    bool
	leaderSince time.Time
	lastOK      time.Time
}

func newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry(), now: time.Now}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: name, Help: help}, labels)
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: name, Help: help})
	}
	m.commands = counterVec("commands_total", "Slash commands (kind=command) and button clicks (kind=button) handled, by result.", "kind", "result")
	m.jobsStarted = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace, Name: "jobs_started_total", Help: "Xplenty jobs started from Slack."})
	m.jobsFinished = counterVec("jobs_finished_total", "Jobs whose terminal thread reply was posted, by final status.", "status")
	m.deliveries = counterVec("deliveries_total", "Messages delivered to Slack, by kind: card (an edit) or reply.", "kind")
	m.xplentyRequests = counterVec("xplenty_requests_total", "HTTP exchanges with the Xplenty API, retries included; code is the HTTP status or \"error\" when no answer came.", "method", "route", "code")
	m.xplentyDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metricsNamespace, Name: "xplenty_request_duration_seconds",
		Help:    "Time from sending an Xplenty API request to having read its answer.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"method", "route"})
	m.slackCalls = counterVec("slack_calls_total", "Slack Web API calls, by method and result (ok, ratelimited, a Slack error code, http_4xx, http_5xx or error).", "method", "result")
	m.slackLimited = counterVec("slack_ratelimited_total", "Slack Web API calls answered with 429.", "method")
	m.leader = gauge("watcher_leader", "1 while this replica holds the polling lease, else 0.")
	m.tracked = gauge("tracked_jobs", "Jobs being followed, as counted by the polling leader; 0 on other replicas.")
	m.polls = counterVec("watcher_polls_total", "Watcher ticks by result: ok, idle (nothing to follow), failed (the change list could not be read), follower (another replica polls).", "result")
	m.callsPerTick = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: metricsNamespace, Name: "watcher_xplenty_calls_per_tick",
		Help:    "Xplenty API calls made by one watcher tick while leader.",
		Buckets: []float64{0, 1, 2, 3, 5, 8, 12},
	})
	m.jobProblems = counterVec("watcher_job_problems_total", "Trouble with one followed job, which costs only that job: read_failed, given_up, undecodable.", "kind")
	m.lastPoll = gauge("watcher_last_poll_timestamp_seconds", "Unix time of this replica's last successful poll (ok or idle); 0 if none.")
	m.panics = counterVec("panics_total", "Panics recovered while handling one envelope, one watcher tick or one delivery; the bot kept serving.", "where")
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "watcher_lag_seconds",
		Help: "While this replica is the polling leader: seconds since its last successful poll (or since it became leader, if later). 0 when not the leader.",
	}, m.lag)
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "build_info", Help: "Always 1; the version label tells the build.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)

	m.registry.MustRegister(
		m.commands, m.jobsStarted, m.jobsFinished, m.deliveries,
		m.xplentyRequests, m.xplentyDuration, m.slackCalls, m.slackLimited,
		m.leader, m.tracked, m.polls, m.callsPerTick, m.jobProblems, m.lastPoll, m.panics, lag, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Series that alerts and rate() use exist from the start, at 0.
	for _, s := range []string{string(xplenty.StatusCompleted), string(xplenty.StatusFailed), string(xplenty.StatusStopped)} {
		m.jobsFinished.WithLabelValues(s)
	}
	for _, k := range []string{"card", "reply"} {
		m.deliveries.WithLabelValues(k)
	}
	for _, r := range []string{"ok", "idle", "failed", "follower"} {
		m.polls.WithLabelValues(r)
	}
	for _, k := range []string{"read_failed", "given_up", "undecodable"} {
		m.jobProblems.WithLabelValues(k)
	}
	for _, w := range panicPlaces {
		m.panics.WithLabelValues(w)
	}
	return m
}

// hooks returns the observation points serve hands to the bot, the
// Xplenty client, the poster, the watcher and the deliverer.
func (m *metrics) hooks() hooks {
	return hooks{
		command:   m.observeCommand,
		xplenty:   m.observeXplenty,
		slackCall: m.observeSlackCall,
		tick:      m.observeTick,
		delivered: m.observeDelivered,
		panicked:  m.observePanic,
	}
}

// panicPlaces are the values of runjob_panics_total's where label.
var panicPlaces = []string{"envelope", "tick", "delivery"}

func (m *metrics) observePanic(where string) {
	if !slices.Contains(panicPlaces, where) {
		where = "other"
	}
	m.panics.WithLabelValues(where).Inc()
}

// withHooks returns hooks that call a's observation point, then b's, for
// each field either sets; serve uses it to add the metrics to hooks a
// caller passed in deps.
func withHooks(a, b hooks) hooks {
	h := a
	if f, g := a.command, b.command; g != nil {
		h.command = g
		if f != nil {
			h.command = func(kind, result string) { f(kind, result); g(kind, result) }
		}
	}
	if f, g := a.xplenty, b.xplenty; g != nil {
		h.xplenty = g
		if f != nil {
			h.xplenty = func(method, route string, status int, d time.Duration) {
				f(method, route, status, d)
				g(method, route, status, d)
			}
		}
	}
	if f, g := a.slackCall, b.slackCall; g != nil {
		h.slackCall = g
		if f != nil {
			h.slackCall = func(method, code string) { f(method, code); g(method, code) }
		}
	}
	if f, g := a.tick, b.tick; g != nil {
		h.tick = g
		if f != nil {
			h.tick = func(st notifier.TickStats) { f(st); g(st) }
		}
	}
	if f, g := a.panicked, b.panicked; g != nil {
		h.panicked = g
		if f != nil {
			h.panicked = func(where string) { f(where); g(where) }
		}
	}
	if f, g := a.delivered, b.delivered; g != nil {
		h.delivered = g
		if f != nil {
			h.delivered = func(kind string, id int64, s xplenty.Status) { f(kind, id, s); g(kind, id, s) }
		}
	}
	return h
}

func (m *metrics) observeCommand(kind, result string) {
	if kind != "command" && kind != "button" {
		kind = "other"
	}
	m.commands.WithLabelValues(kind, boundedWord(result)).Inc()
	if result == "started" {
		m.jobsStarted.Inc()
	}
}

func (m *metrics) observeXplenty(method, route string, status int, d time.Duration) {
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
	m.xplentyRequests.WithLabelValues(method, route, code).Inc()
	m.xplentyDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

func (m *metrics) observeSlackCall(method, code string) {
	if !slackMethodRE.MatchString(method) {
		method = "other"
	}
	result := slackResult(code)
	m.slackCalls.WithLabelValues(method, result).Inc()
	if result == "ratelimited" {
		m.slackLimited.WithLabelValues(method).Inc()
	}
}

func (m *metrics) observeTick(st notifier.TickStats) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !st.Leader {
		m.isLeader = false
		m.leader.Set(0)
		m.tracked.Set(0)
		m.polls.WithLabelValues("follower").Inc()
		return
	}
	if !m.isLeader {
		m.isLeader, m.leaderSince = true, now
	}
	m.leader.Set(1)
	m.tracked.Set(float64(st.Active))
	m.callsPerTick.Observe(float64(st.Calls))
	m.jobProblems.WithLabelValues("read_failed").Add(float64(st.ReadFailed))
	m.jobProblems.WithLabelValues("given_up").Add(float64(st.GaveUp))
	m.jobProblems.WithLabelValues("undecodable").Add(float64(st.Undecodable))
	// TickStats carry no error. A tick with jobs to follow that read no
	// page of the change list failed; one with nothing to follow spends no
	// budget and is up to date.
	result := "ok"
	switch {
	case st.Active == 0:
		result = "idle"
	case st.Pages == 0:
		result = "failed"
	}
	m.polls.WithLabelValues(result).Inc()
	if result != "failed" {
		m.lastOK = now
		m.lastPoll.Set(float64(now.UnixNano()) / 1e9)
	}
}

// lag is read at scrape time: see runjob_watcher_lag_seconds.
func (m *metrics) lag() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.isLeader {
		return 0
	}
	since := m.leaderSince
	if m.lastOK.After(since) {
		since = m.lastOK
	}
	return max(0, m.now().Sub(since).Seconds())
}

func (m *metrics) observeDelivered(kind string, _ int64, status xplenty.Status) {
	if kind != "card" && kind != "reply" {
		kind = "other"
	}
	m.deliveries.WithLabelValues(kind).Inc()
	if kind != "reply" {
		return
	}
	s := "other"
	switch status {
	case xplenty.StatusCompleted, xplenty.StatusFailed, xplenty.StatusStopped:
		s = string(status)
	}
	m.jobsFinished.WithLabelValues(s).Inc()
}

// observeRateLimit exports the Xplenty budget, read from rl at scrape time
// (e.g. xp.RateLimit). Until an answer carried the headers the gauges are
// absent rather than 0, so "remaining == 0" alerts do not fire at start-up.
// Call it once per metrics.
func (m *metrics) observeRateLimit(rl func() xplenty.RateLimit) {
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

// handler serves the registry in the Prometheus exposition format.
func (m *metrics) handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.registry, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry:            m.registry, // counts its own errors
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
}

// Label bounding.

var (
	resultWordRE  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	slackMethodRE = regexp.MustCompile(`^[a-z]+(\.[a-zA-Z]+){1,3}$`)
	routeRE       = regexp.MustCompile(`^/[a-z_/{}]{0,63}$`) // templates only: no ids
)

// boundedWord passes the short snake_case words the code uses as results
// and maps anything else to "other".
func boundedWord(s string) string {
	if resultWordRE.MatchString(s) {
		return s
	}
	return "other"
}

func boundedRoute(s string) string {
	if routeRE.MatchString(s) {
		return s
	}
	return "other"
}

// slackCodes are the Slack error codes worth telling apart on a
// dashboard; any other becomes "error".
var slackCodes = map[string]bool{
	"ratelimited": true, "not_in_channel": true, "channel_not_found": true, "is_archived": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "not_allowed_token_type": true, "missing_scope": true, "no_permission": true,
	"restricted_action": true, "team_access_not_granted": true, "ekm_access_denied": true,
	"msg_too_long": true, "no_text": true, "invalid_blocks": true, "invalid_arguments": true,
	"invalid_arg_name": true, "too_many_attachments": true, "message_not_found": true,
	"cant_update_message": true, "edit_window_closed": true, "thread_not_found": true,
	"invalid_ts_latest": true, "invalid_ts_oldest": true, "duplicate_channel_not_found": true,
	"request_timeout": true, "service_unavailable": true, "fatal_error": true, "internal_error": true,
}

// slackResult maps deliver.SlackErrorCode's answer to a bounded label.
func slackResult(code string) string {
	switch {
	case code == "":
		return "ok"
	case slackCodes[code]:
		return code
	case strings.HasPrefix(code, "http_4"):
		return "http_4xx"
	case strings.HasPrefix(code, "http_5"):
		return "http_5xx"
	}
	return "error"
}

// Health and readiness.

// readiness is what /readyz checks; a nil check is skipped.
type readiness struct {
	slack func() bool                     // e.g. (*bot.SocketMode).Connected
	redis func(ctx context.Context) error // e.g. (*store.Store).Ping
}

// opsHandler serves GET /healthz (the process is alive: always 200 "ok"),
// GET /readyz (200 "ready" when Slack is connected and Redis answers within
// a second, else 503 with one short reason a line) and GET /metrics.
func opsHandler(m *metrics, r readiness) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		opsPlain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, req *http.Request) {
		var why []string
		if r.slack != nil && !r.slack() {
			why = append(why, "slack: not connected")
		}
		if r.redis != nil {
			ctx, cancel := context.WithTimeout(req.Context(), readyRedisTimeout)
			err := r.redis(ctx)
			cancel()
			if err != nil {
				why = append(why, "redis: "+redisProblem(err))
			}
		}
		if len(why) > 0 {
			opsPlain(w, http.StatusServiceUnavailable, strings.Join(why, "\n"))
			return
		}
		opsPlain(w, http.StatusOK, "ready")
	})
	if m != nil {
		mux.Handle("GET /metrics", m.handler())
	}
	return mux
}

func opsPlain(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body+"\n")
}

// redisProblem names the class of a Redis failure. go-redis errors may
// quote the address, and a URL may carry the password, so the error text
// itself is never shown; a server reply contributes only its leading code
// word (NOAUTH, WRONGPASS, LOADING, READONLY…).
func redisProblem(err error) string {
	var rerr redis.Error
	var dns *net.DNSError
	var nerr net.Error
	var cverr *tls.CertificateVerificationError
	var rherr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "check canceled"
	case errors.Is(err, redis.ErrClosed):
		return "client closed"
	case errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted):
		return "connection pool exhausted"
	case errors.As(err, &rerr):
		if word, _, _ := strings.Cut(rerr.Error(), " "); redisCodeRE.MatchString(word) {
			return "server error " + word
		}
		return "server error"
	case errors.As(err, &dns):
		return "cannot resolve host"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return "connection lost"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &cverr), errors.As(err, &rherr):
		return "tls handshake failed"
	case errors.As(err, &nerr) && nerr.Timeout():
		return "timeout"
	}
	return "unavailable"
}

var redisCodeRE = regexp.MustCompile(`^[A-Z]{2,20}$`)

// serveOps listens on addr at once – so that a port in use or a bad address
// fails start-up immediately – then serves h in the background until ctx
// ends, when the server shuts down gracefully (at most opsShutdownGrace,
// then connections are closed). It returns the bound address (useful with
// ":0") and wait, which blocks until the server has stopped and returns
// its error, nil after a clean shutdown.
func serveOps(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (bound net.Addr, wait func() error, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("ops endpoint: %w", err) // names the address
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	done := make(chan struct{})
	var result error
	go func() {
		defer close(done)
		select {
		case err := <-served: // Serve failed on its own (it does not return otherwise)
			log.Error("ops server stopped", "err", err)
			result = err
			return
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opsShutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			result = err
		}
	}()
	log.Info("ops endpoint listening", "addr", ln.Addr().String(), "paths", "/healthz /readyz /metrics")
	return ln.Addr(), func() error { <-done; return result }, nil
}
