package ops

import (
	"testing"

	"github.com/runjob/runjob/xplenty"
)

func TestMetricsDeliveries(t *testing.T) {
	m := NewMetrics(version)
	h := m.Hooks()

	h.Delivered("card", 4242, xplenty.StatusRunning)
	h.Delivered("card", 4243, xplenty.StatusQueued)
	h.Delivered("reply", 4242, xplenty.StatusCompleted)
	h.Delivered("reply", 4243, xplenty.StatusFailed)
	h.Delivered("reply", 4244, xplenty.StatusFailed)
	h.Delivered("reply", 4245, xplenty.Status("weird"))
	h.Delivered("bogus", 4246, xplenty.StatusStopped)
	h.Delivered("dm", 4247, xplenty.StatusStopped)
	h.Delivered("skipped", 4248, xplenty.StatusCompleted)

	fams := scrapeMetrics(t, Handler(m, Readiness{}, nil))

	wantMetric(t, fams, 2, "runjob_deliveries_total", "kind", "card")
	wantMetric(t, fams, 4, "runjob_deliveries_total", "kind", "reply")
	wantMetric(t, fams, 1, "runjob_deliveries_total", "kind", "other")
	wantMetric(t, fams, 1, "runjob_deliveries_total", "kind", "dm")
	wantMetric(t, fams, 1, "runjob_deliveries_total", "kind", "skipped")
	wantMetric(t, fams, 2, "runjob_jobs_finished_total", "status", "completed")
	wantMetric(t, fams, 2, "runjob_jobs_finished_total", "status", "failed")
	wantMetric(t, fams, 1, "runjob_jobs_finished_total", "status", "stopped")
	wantMetric(t, fams, 1, "runjob_jobs_finished_total", "status", "other")
	wantBoundedLabels(t, fams)
}
