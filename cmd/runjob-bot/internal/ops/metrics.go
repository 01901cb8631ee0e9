package ops

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/runjob/runjob/xplenty"
)

const (
	metricsNamespace = "runjob"
	// readyRedisTimeout bounds the Redis check of /readyz.
	readyRedisTimeout = time.Second
	// shutdownGrace bounds the graceful stop of the ops server; it is
	// well inside the process' 10 s budget.
	shutdownGrace = 2 * time.Second
)

// Metrics holds every collector, on a registry of its own (tests create
// many; the global registry is never used).
type Metrics struct {
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

// NewMetrics returns the metrics of a bot of that version, on a registry of
// their own.
func NewMetrics(version string) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), now: time.Now}
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

// Hooks returns the observation points app.Serve hands to the bot, the
// Xplenty client, the poster, the watcher and the deliverer.
func (m *Metrics) Hooks() Hooks {
	return Hooks{
		Command:   m.observeCommand,
		Xplenty:   m.observeXplenty,
		SlackCall: m.observeSlackCall,
		Tick:      m.observeTick,
		Delivered: m.observeDelivered,
		Panicked:  m.observePanic,
	}
}

// handler serves the registry in the Prometheus exposition format.
func (m *Metrics) handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.registry, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry:            m.registry, // counts its own errors
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
}
