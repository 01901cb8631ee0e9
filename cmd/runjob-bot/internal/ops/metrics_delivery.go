package ops

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/runjob/runjob/xplenty"
)

// deliveryMetrics are the deliverer's: the messages it dealt with, and the
// jobs whose terminal reply did. Fed by Hooks.Delivered
// (deliver.DelivererOptions.OnDelivered).
type deliveryMetrics struct {
	deliveries   *prometheus.CounterVec
	jobsFinished *prometheus.CounterVec
}

func newDeliveryMetrics(r prometheus.Registerer) *deliveryMetrics {
	d := &deliveryMetrics{
		deliveries: counterVec("deliveries_total", "Messages dealt with, by kind: card (an edit), reply (posted in a thread), "+
			"dm (a reply sent to its requester: the channel could not take it) or skipped (a reply the channel's notify settings left out).", "kind"),
		jobsFinished: counterVec("jobs_finished_total", "Jobs whose terminal reply was dealt with (posted, sent to the requester, or left out), by final status.", "status"),
	}
	r.MustRegister(d.deliveries, d.jobsFinished)
	// Series that alerts and rate() use exist from the start, at 0.
	for _, s := range []string{string(xplenty.StatusCompleted), string(xplenty.StatusFailed), string(xplenty.StatusStopped)} {
		d.jobsFinished.WithLabelValues(s)
	}
	for _, k := range deliveryKinds {
		d.deliveries.WithLabelValues(k)
	}
	return d
}

// deliveryKinds are the kinds OnDelivered is told of; any other is counted
// as "other".
var deliveryKinds = []string{"card", "reply", "dm", "skipped"}

func (d *deliveryMetrics) observeDelivered(kind string, _ int64, status xplenty.Status) {
	if !slices.Contains(deliveryKinds, kind) {
		kind = "other"
	}
	d.deliveries.WithLabelValues(kind).Inc()
	if kind == "card" || kind == "other" {
		return
	}
	s := "other"
	switch status {
	case xplenty.StatusCompleted, xplenty.StatusFailed, xplenty.StatusStopped:
		s = string(status)
	}
	d.jobsFinished.WithLabelValues(s).Inc()
}
