package ops

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/runjob/runjob/notifier/store"
)

// The delivery queues, read from Redis at scrape time (so every replica
// reports the same, shared numbers: use max(), not sum(), across them):
//
//	runjob_queue_depth{queue}              "replies" (thread messages in the outbox), "cards_pending"
//	                                       (cards marked for an edit), "cards_due" (of which due now)
//	runjob_queue_oldest_age_seconds{kind}  "reply": age of the oldest thread message waiting;
//	                                       "card": how long the card due first has been due (0 if none)
var (
	queueDepthDesc = prometheus.NewDesc(metricsNamespace+"_queue_depth",
		"Messages waiting for Slack: replies (thread messages), cards_pending (cards marked for an edit), cards_due (of which due now).",
		[]string{"queue"}, nil)
	queueAgeDesc = prometheus.NewDesc(metricsNamespace+"_queue_oldest_age_seconds",
		"Age of the oldest waiting thread message (kind=reply), or how long the card due first has been due (kind=card).",
		[]string{"kind"}, nil)
)

// queueReadTimeout bounds the Redis reads of one scrape.
const queueReadTimeout = time.Second

// queueCollector is the store's set: its queues, read at scrape time, so
// it holds no collectors of its own but is one. Added by ObserveQueues.
type queueCollector struct {
	read func(context.Context) (store.QueueStats, error)
}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- queueAgeDesc
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), queueReadTimeout)
	defer cancel()
	q, err := c.read(ctx)
	if err != nil {
		// Redis is away: /readyz says so; no made-up numbers here.
		return
	}
	depth := func(queue string, n int64) {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(n), queue)
	}
	depth("replies", q.Replies)
	depth("cards_pending", q.CardsPending)
	depth("cards_due", q.CardsDue)
	ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, q.OldestReply.Seconds(), "reply")
	ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, q.OldestCard.Seconds(), "card")
}

// ObserveQueues exports the delivery queues, read with read at scrape time
// (e.g. store.Queues). Call it once per Metrics.
func (m *Metrics) ObserveQueues(read func(context.Context) (store.QueueStats, error)) {
	m.registry.MustRegister(queueCollector{read: read})
}
