package notifier

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

func newTestStore(t *testing.T) (*store.Store, redis.UniversalClient) {
	t.Helper()
	return newTestStoreAt(t, nil)
}

// newTestStoreAt is newTestStore on the clock now (nil: time.Now).
func newTestStoreAt(t testing.TB, now func() time.Time) (*store.Store, redis.UniversalClient) {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	s, err := store.New(rdb, store.Options{Prefix: prefix, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s, rdb
}

func testRecord(id int64) job.Record {
	return job.Record{
		JobID: id, Channel: "C1", CardTS: "1700000000.000100", Requester: "U1",
		Run:       commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DATE": "2026-11-01", "DB_PASSWORD": "hunter2"}, DynamicVariables: map[string]string{"NOW": "CurrentTime()"}},
		Status:    xplenty.StatusIdle,
		CreatedAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
	}
}

// outbox returns the kinds of the queued messages, oldest first.
func outbox(t *testing.T, s *store.Store, rdb redis.UniversalClient) []string {
	t.Helper()
	msgs, err := rdb.XRange(context.Background(), s.Keys().Outbox(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range msgs {
		kinds = append(kinds, m.Values["kind"].(string)+":"+m.Values["status"].(string))
	}
	return kinds
}

// eventually polls cond; it is a wait, not a timing assertion.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
