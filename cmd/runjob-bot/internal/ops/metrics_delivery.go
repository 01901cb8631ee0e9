package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/runjob/runjob/xplenty"
)

// deliveryMetrics are the deliverer's: the messages it delivered, and the
// jobs whose terminal reply went out. Fed by Hooks.Delivered
// (deliver.DelivererOptions.OnDelivered).
type deliveryMetrics struct {
	deliveries   *prometheus.CounterVec
	jobsFinished *prometheus.CounterVec
}

func newDeliveryMetrics(r prometheus.Registerer) *deliveryMetrics {
	d := &deliveryMetrics{
		deliveries:   counterVec("deliveries_total", "Messages delivered to Slack, by kind: card (an edit) or reply.", "kind"),
		jobsFinished: counterVec("jobs_finished_total", "Jobs whose terminal thread reply was posted, by final status.", "status"),
	}
	r.MustRegister(d.deliveries, d.jobsFinished)
	// Series that alerts and rate() use exist from the start, at 0.
	for _, s := range []string{string(xplenty.StatusCompleted), string(xplenty.StatusFailed), string(xplenty.StatusStopped)} {
		d.jobsFinished.WithLabelValues(s)
	}
	for _, k := range []string{"card", "reply"} {
		d.deliveries.WithLabelValues(k)
	}
	return d
}

func (d *deliveryMetrics) observeDelivered(kind string, _ int64, status xplenty.Status) {
	if kind != "card" && kind != "reply" {
		kind = "other"
	}
	d.deliveries.WithLabelValues(kind).Inc()
	if kind != "reply" {
		return
	}
	s := "other"
	switch status {
	case xplenty.StatusCompleted, xplenty.StatusFailed, xplenty.StatusStopped:
		s = string(status)
	}
	d.jobsFinished.WithLabelValues(s).Inc()
}
