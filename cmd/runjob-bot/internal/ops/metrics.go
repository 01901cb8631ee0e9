package ops

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const (
	metricsNamespace = "runjob"
	// readyRedisTimeout bounds the Redis check of /readyz.
	readyRedisTimeout = time.Second
	// shutdownGrace bounds the graceful stop of the ops server; it is
	// well inside the process' 10 s budget.
	shutdownGrace = 2 * time.Second
)

// Metrics composes the metric sets of the components, on a registry of its
// own (tests create many; the global registry is never used). Each set
// holds its collectors and the observe method its hook feeds.
type Metrics struct {
	registry *prometheus.Registry

	bot      *botMetrics
	xplenty  *xplentyMetrics
	slack    *slackMetrics
	watcher  *watcherMetrics
	delivery *deliveryMetrics
	panics   *panicMetrics
	webhooks *webhookMetrics
	replicas *replicationMetrics
}

// NewMetrics returns the metrics of a bot of that version, on a registry of
// their own. The Xplenty budget and the delivery queues, read at scrape
// time, are added by ObserveRateLimit and ObserveQueues.
func NewMetrics(version string) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		registry: r,
		bot:      newBotMetrics(r),
		xplenty:  newXplentyMetrics(r),
		slack:    newSlackMetrics(r),
		watcher:  newWatcherMetrics(r),
		delivery: newDeliveryMetrics(r),
		panics:   newPanicMetrics(r),
		webhooks: newWebhookMetrics(r),
		replicas: newReplicationMetrics(r),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "build_info", Help: "Always 1; the version label tells the build.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	r.MustRegister(
		build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Hooks returns the observation points app.Serve hands to the bot, the
// Xplenty client, the poster, the watcher and the deliverer, each wired to
// its component's set.
func (m *Metrics) Hooks() Hooks {
	return Hooks{
		Command:   m.bot.observeCommand,
		Xplenty:   m.xplenty.observeRequest,
		SlackCall: m.slack.observeCall,
		Tick:      m.watcher.observeTick,
		Delivered: m.delivery.observeDelivered,
		Panicked:  m.panics.observePanic,

		Unreplicated: m.replicas.observeUnreplicated,
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

// counterVec and gauge build collectors in the runjob namespace for the sets.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: name, Help: help}, labels)
}

func gauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: name, Help: help})
}
