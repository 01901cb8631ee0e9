package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/xplenty"
)

// The store's basic paths work through a Sentinel-mode client (a failover
// client: go-redis asks the sentinels for the primary), and keep working
// when the primary is killed and the sentinels promote the replica: what
// was replicated before the kill is still there, and the Lua scripts run
// on the new primary (whose script cache is empty: EVALSHA falls back to
// EVAL).
func TestStoreOnSentinelSurvivesFailover(t *testing.T) {
	setup := redistest.StartSentinel(t)
	rdb := setup.Client()
	s, err := New(rdb, Options{Prefix: redistest.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exerciseStore(t, s, 2001, "before the failover")

	// Wait for the replica to have every write so far: a write the primary
	// acknowledged but did not pass on before it died is lost in any
	// failover (README, "Redis Sentinel").
	if n, err := rdb.Do(ctx, "WAIT", 1, 10000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1: %d replicas, %v", n, err)
	}
	oldPrimary := setup.Primary().Addr
	newPrimary := setup.KillPrimary()
	if newPrimary.Addr == oldPrimary {
		t.Fatalf("the primary is still %s", oldPrimary)
	}

	// The client finds the new primary by itself; wait until it does.
	deadline := time.Now().Add(60 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := s.Ping(pctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store does not reach the new primary %s: %v", newPrimary.Addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, err := s.Get(ctx, 2001)
	if err != nil || got.Status != xplenty.StatusCompleted || got.Channel != "C1" {
		t.Fatalf("the job tracked before the failover: %+v, %v", got, err)
	}
	if ok, err := s.Claim(ctx, "event:2001", time.Minute); err != nil || ok {
		t.Errorf("a claim taken before the failover is taken again after it: %v, %v", ok, err)
	}
	exerciseStore(t, s, 2002, "after the failover")
}

// exerciseStore runs the store's basic paths for job id: track it (a
// script), observe a change and its end (a script that queues the reply),
// read the reply from the outbox and acknowledge it (a transaction), a
// claim, the lease.
func exerciseStore(t *testing.T, s *Store, id int64, when string) {
	t.Helper()
	ctx := context.Background()
	fail := func(what string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s", when, fmt.Sprintf(what, args...))
	}
	if err := s.Track(ctx, testRecord(id)); err != nil {
		fail("track %d: %v", id, err)
	}
	if ch, err := s.Observe(ctx, xplenty.Job{ID: id, Status: xplenty.StatusRunning}); err != nil || ch != StatusChanged {
		fail("observe running: %v, %v", ch, err)
	}
	if ch, err := s.Observe(ctx, xplenty.Job{ID: id, Status: xplenty.StatusCompleted}); err != nil || ch != Finished {
		fail("observe completed: %v, %v", ch, err)
	}
	if ch, err := s.Observe(ctx, xplenty.Job{ID: id, Status: xplenty.StatusCompleted}); err != nil || ch != Unchanged {
		fail("observe completed again: %v, %v", ch, err)
	}
	if err := s.EnsureOutboxGroup(ctx); err != nil {
		fail("outbox group: %v", err)
	}
	entries, err := s.ReadOutbox(ctx, "replica-a", 10, time.Second)
	if err != nil || len(entries) != 1 || entries[0].JobID != id || entries[0].Status != xplenty.StatusCompleted {
		fail("read outbox: %+v, %v", entries, err)
	}
	if err := s.AckOutbox(ctx, entries[0].ID); err != nil {
		fail("ack outbox: %v", err)
	}
	if left, err := s.ReadOutbox(ctx, "replica-a", 10, 10*time.Millisecond); err != nil || len(left) != 0 {
		fail("the outbox after the ack: %+v, %v", left, err)
	}
	key := fmt.Sprintf("event:%d", id)
	if ok, err := s.Claim(ctx, key, time.Minute); err != nil || !ok {
		fail("first claim: %v, %v", ok, err)
	}
	if ok, err := s.Claim(ctx, key, time.Minute); err != nil || ok {
		fail("second claim: %v, %v", ok, err)
	}
	holder := fmt.Sprintf("watcher-%d", id)
	if ok, err := s.Lease(ctx, holder, time.Minute); err != nil || !ok {
		fail("lease: %v, %v", ok, err)
	}
	if err := s.ReleaseLease(ctx, holder); err != nil {
		fail("release lease: %v", err)
	}
}
