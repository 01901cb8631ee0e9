package ops

import (
	"testing"

	"github.com/runjob/runjob/notifier"
)

// One job's trouble is counted without failing the poll.
func TestMetricsJobProblems(t *testing.T) {
	m := NewMetrics(version)
	h := m.Hooks()
	handler := Handler(m, Readiness{})
	h.Tick(notifier.TickStats{Leader: true, Active: 2, Pages: 1, Calls: 2, ReadFailed: 1, Undecodable: 2})
	h.Tick(notifier.TickStats{Leader: true, Active: 1, Pages: 1, Calls: 2, ReadFailed: 1, GaveUp: 1})
	fams := scrapeMetrics(t, handler)
	wantMetric(t, fams, 2, "runjob_watcher_job_problems_total", "kind", "read_failed")
	wantMetric(t, fams, 1, "runjob_watcher_job_problems_total", "kind", "given_up")
	wantMetric(t, fams, 2, "runjob_watcher_job_problems_total", "kind", "undecodable")
	wantMetric(t, fams, 2, "runjob_watcher_polls_total", "result", "ok")
}
