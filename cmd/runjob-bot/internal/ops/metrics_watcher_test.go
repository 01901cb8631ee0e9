package ops

import (
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier"
)

// One job's trouble is counted without failing the poll.
func TestMetricsJobProblems(t *testing.T) {
	m := NewMetrics(version)
	h := m.Hooks()
	handler := Handler(m, Readiness{}, nil)
	h.Tick(notifier.TickStats{Leader: true, Active: 2, Pages: 1, Calls: 2, ReadFailed: 1, Undecodable: 2})
	h.Tick(notifier.TickStats{Leader: true, Active: 1, Pages: 1, Calls: 2, ReadFailed: 1, GaveUp: 1})
	fams := scrapeMetrics(t, handler)
	wantMetric(t, fams, 2, "runjob_watcher_job_problems_total", "kind", "read_failed")
	wantMetric(t, fams, 1, "runjob_watcher_job_problems_total", "kind", "given_up")
	wantMetric(t, fams, 2, "runjob_watcher_job_problems_total", "kind", "undecodable")
	wantMetric(t, fams, 2, "runjob_watcher_polls_total", "result", "ok")
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
	m.watcher.now = clock.Now
	h := m.Hooks()
	handler := Handler(m, Readiness{}, nil)

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
