package ops

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// The queue gauges read the shared queues in Redis: a finished job has a
// reply waiting and its card due.
func TestMetricsQueues(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	store, err := store.New(rdb, store.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Track(ctx, job.Record{JobID: 7, Channel: "C1", CardTS: "1.000001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Observe(ctx, xplenty.Job{ID: 7, Status: xplenty.StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(version)
	m.ObserveQueues(store.Queues)
	fams := scrapeMetrics(t, Handler(m, Readiness{}, nil))
	wantMetric(t, fams, 1, "runjob_queue_depth", "queue", "replies")
	wantMetric(t, fams, 1, "runjob_queue_depth", "queue", "cards_pending")
	wantMetric(t, fams, 1, "runjob_queue_depth", "queue", "cards_due")
	for _, kind := range []string{"reply", "card"} {
		if v, ok := metricSample(fams, "runjob_queue_oldest_age_seconds", "kind", kind); !ok || v < 0 || v > 60 {
			t.Errorf("oldest %s age = %v (%v), want a few seconds at most", kind, v, ok)
		}
	}
	fs, _ := m.registry.Gather()
	problems, _ := promlint.NewWithMetricFamilies(fs).Lint()
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "runjob_queue") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}
