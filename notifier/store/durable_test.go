package store

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/xplenty"
)

// With ReplicaWait set, the writes that must outlive a failover return
// only once the replica has them: while it is stalled they wait, and once
// it goes on they return, and the replica holds them.
func TestDurableWritesWaitForTheReplica(t *testing.T) {
	setup := redistest.StartSentinel(t)
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: redistest.MasterName, SentinelAddrs: setup.SentinelAddrs(), ReadTimeout: time.Minute,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	s, err := New(rdb, Options{Prefix: redistest.Prefix(t), ReplicaWait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var replica *redistest.Server
	for _, srv := range setup.Servers {
		if srv != setup.Primary() {
			replica = srv
		}
	}
	onReplica := redis.NewClient(&redis.Options{Addr: replica.Addr})
	t.Cleanup(func() { _ = onReplica.Close() })
	checkWritesWaitFor(t, s, replica, onReplica)
}

// checkWritesWaitFor checks each write that must outlive a failover: it
// waits while replica is stalled, returns once it goes on, and is then on
// the replica (read through onReplica).
func checkWritesWaitFor(t *testing.T, s *Store, replica *redistest.Server, onReplica redis.Cmdable) {
	t.Helper()
	ctx := context.Background()
	in := Intent{Channel: "C1", CardTS: "1700000000.000100", Requester: "U1", Run: commands.Run{ClusterID: 52, PackageID: 434}, Asked: time.Now()}

	for _, w := range []struct {
		what  string
		write func() error
		key   string
	}{
		{WriteClaim, func() error { _, err := s.Claim(ctx, "event:E1", time.Hour); return err }, s.keys.Dedupe("event:E1")},
		{WriteIntent, func() error { return s.SaveIntent(ctx, in) }, s.keys.Intent(in.ID())},
		{WriteAttempt, func() error { _, err := s.MarkAttempt(ctx, 1001, xplenty.StatusCompleted, "r1"); return err }, s.keys.Attempt(1001, xplenty.StatusCompleted)},
		{WriteDM, func() error { _, err := s.MarkDMAttempt(ctx, 1001, xplenty.StatusFailed, "r1"); return err }, s.keys.DM(1001, xplenty.StatusFailed)},
		{WriteAudit, func() error { return s.Audit(ctx, AuditEntry{Action: "run", User: "U1", JobID: 1001}) }, s.keys.Audit()},
	} {
		replica.Pause()
		done := make(chan error, 1)
		go func() { done <- w.write() }()
		select {
		case err := <-done:
			replica.Resume()
			t.Fatalf("%s returned (%v) while the replica was stalled", w.what, err)
		case <-time.After(300 * time.Millisecond):
		}
		replica.Resume()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", w.what, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s did not return once the replica went on", w.what)
		}
		if n, err := onReplica.Exists(ctx, w.key).Result(); err != nil || n != 1 {
			t.Errorf("the replica lacks the %s when it returns (%d, %v)", w.what, n, err)
		}
	}
}

// A replica that does not answer within ReplicaWait does not stop the
// bot: the write stands on the primary, and OnUnreplicated is told.
func TestDurableWriteGoesAheadWithoutTheReplica(t *testing.T) {
	setup := redistest.StartSentinel(t)
	var mu sync.Mutex
	var told []string
	s, err := New(setup.Client(), Options{Prefix: redistest.Prefix(t), ReplicaWait: 100 * time.Millisecond,
		OnUnreplicated: func(what string) { mu.Lock(); told = append(told, what); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range setup.Servers {
		if srv != setup.Primary() {
			srv.Pause()
			defer srv.Resume()
		}
	}
	checkClaimStandsUnreplicated(t, s, "event:E2", &mu, &told)
}

// checkClaimStandsUnreplicated claims key with s, whose replica does not
// answer: the claim stands (a second one is refused) and OnUnreplicated,
// which appends to told under mu, is told of it.
func checkClaimStandsUnreplicated(t *testing.T, s *Store, key string, mu *sync.Mutex, told *[]string) {
	t.Helper()
	ctx := context.Background()
	first, err := s.Claim(ctx, key, time.Hour)
	if err != nil || !first {
		t.Fatalf("Claim = %v, %v; want the first claim", first, err)
	}
	if again, err := s.Claim(ctx, key, time.Hour); err != nil || again {
		t.Errorf("a second Claim = %v, %v; want it refused", again, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(*told, WriteClaim) {
		t.Errorf("with the replica stalled, OnUnreplicated was told %v, want %q", *told, WriteClaim)
	}
}
