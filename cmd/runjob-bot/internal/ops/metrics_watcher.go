package ops

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/runjob/runjob/notifier"
)

// watcherMetrics are the watcher's: whether this replica leads, the jobs
// it follows, its ticks and their cost, one job's trouble, and how fresh
// its last successful poll is. Fed by Hooks.Tick
// (notifier.WatcherOptions.OnTick).
type watcherMetrics struct {
	leader       prometheus.Gauge
	tracked      prometheus.Gauge
	polls        *prometheus.CounterVec
	callsPerTick prometheus.Histogram
	jobProblems  *prometheus.CounterVec
	lastPoll     prometheus.Gauge

	now func() time.Time // the clock of the lag and last poll; tests replace it

	mu          sync.Mutex
	isLeader    bool
	leaderSince time.Time
	lastOK      time.Time
}

func newWatcherMetrics(r prometheus.Registerer) *watcherMetrics {
	w := &watcherMetrics{
		leader:  gauge("watcher_leader", "1 while this replica holds the polling lease, else 0."),
		tracked: gauge("tracked_jobs", "Jobs being followed, as counted by the polling leader; 0 on other replicas."),
		polls:   counterVec("watcher_polls_total", "Watcher ticks by result: ok, idle (nothing to follow), failed (the change list could not be read), follower (another replica polls).", "result"),
		callsPerTick: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "watcher_xplenty_calls_per_tick",
			Help:    "Xplenty API calls made by one watcher tick while leader.",
			Buckets: []float64{0, 1, 2, 3, 5, 8, 12},
		}),
		jobProblems: counterVec("watcher_job_problems_total", "Trouble with one followed job, which costs only that job: read_failed, given_up, undecodable.", "kind"),
		lastPoll:    gauge("watcher_last_poll_timestamp_seconds", "Unix time of this replica's last successful poll (ok or idle); 0 if none."),
		now:         time.Now,
	}
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "watcher_lag_seconds",
		Help: "While this replica is the polling leader: seconds since its last successful poll (or since it became leader, if later). 0 when not the leader.",
	}, w.lag)
	r.MustRegister(w.leader, w.tracked, w.polls, w.callsPerTick, w.jobProblems, w.lastPoll, lag)
	// Series that alerts and rate() use exist from the start, at 0.
	for _, res := range []string{"ok", "idle", "failed", "follower"} {
		w.polls.WithLabelValues(res)
	}
	for _, k := range []string{"read_failed", "given_up", "undecodable"} {
		w.jobProblems.WithLabelValues(k)
	}
	return w
}

func (w *watcherMetrics) observeTick(st notifier.TickStats) {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !st.Leader {
		w.isLeader = false
		w.leader.Set(0)
		w.tracked.Set(0)
		w.polls.WithLabelValues("follower").Inc()
		return
	}
	if !w.isLeader {
		w.isLeader, w.leaderSince = true, now
	}
	w.leader.Set(1)
	w.tracked.Set(float64(st.Active))
	w.callsPerTick.Observe(float64(st.Calls))
	w.jobProblems.WithLabelValues("read_failed").Add(float64(st.ReadFailed))
	w.jobProblems.WithLabelValues("given_up").Add(float64(st.GaveUp))
	w.jobProblems.WithLabelValues("undecodable").Add(float64(st.Undecodable))
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
	w.polls.WithLabelValues(result).Inc()
	if result != "failed" {
		w.lastOK = now
		w.lastPoll.Set(float64(now.UnixNano()) / 1e9)
	}
}

// lag is read at scrape time: see runjob_watcher_lag_seconds.
func (w *watcherMetrics) lag() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.isLeader {
		return 0
	}
	since := w.leaderSince
	if w.lastOK.After(since) {
		since = w.lastOK
	}
	return max(0, w.now().Sub(since).Seconds())
}
