package ops

import "github.com/prometheus/client_golang/prometheus"

// replicationMetrics count the writes no Redis replica confirmed in time
// (Sentinel): each stood on the primary alone, and a failover then would
// lose it. Fed by Hooks.Unreplicated.
type replicationMetrics struct {
	unreplicated *prometheus.CounterVec
}

func newReplicationMetrics(r prometheus.Registerer) *replicationMetrics {
	m := &replicationMetrics{
		unreplicated: counterVec("redis_unreplicated_writes_total",
			"Writes that should have reached a Redis replica before the bot went on (claims, launch intents, reply attempts, audit entries) and that no replica confirmed in time; with Sentinel, any increase means the replica lags or is away.", "write"),
	}
	r.MustRegister(m.unreplicated)
	return m
}

func (m *replicationMetrics) observeUnreplicated(what string) {
	m.unreplicated.WithLabelValues(what).Inc()
}
