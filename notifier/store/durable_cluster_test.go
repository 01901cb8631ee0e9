package store

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/xplenty"
)

// clusterWithReplica starts a cluster, a store on it whose writes wait up
// to wait for a replica, and a replica of the primary of the store's slot.
func clusterWithReplica(t *testing.T, wait time.Duration, onUnreplicated func(string)) (*redistest.Cluster, *Store, *redistest.Server) {
	t.Helper()
	c := redistest.StartCluster(t)
	// The pipeline's read deadline must outlast the wait.
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), ReadTimeout: time.Minute, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	s, err := New(rdb, Options{Prefix: redistest.Prefix(t), ReplicaWait: wait, OnUnreplicated: onUnreplicated})
	if err != nil {
		t.Fatal(err)
	}
	return c, s, c.AddReplica(s.keys.prefix)
}

// readOnReplica is a client of a cluster replica that may read its keys
// (READONLY: else it answers MOVED to the primary).
func readOnReplica(t *testing.T, srv *redistest.Server) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, OnConnect: func(ctx context.Context, cn *redis.Conn) error {
		return cn.ReadOnly(ctx).Err()
	}})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// On a Redis Cluster, the writes that must outlive a failover return only
// once the replica of the slot's primary has them: while it is stalled
// they wait, and once it goes on they return, and the replica holds them.
func TestDurableWritesOnAClusterWaitForTheSlotsReplica(t *testing.T) {
	_, s, replica := clusterWithReplica(t, 30*time.Second, nil)
	checkWritesWaitFor(t, s, replica, readOnReplica(t, replica))
}

// waitCalls is how many WAIT the node rdb reaches ran since CONFIG RESETSTAT.
func waitCalls(t *testing.T, ctx context.Context, rdb *redis.Client) int {
	t.Helper()
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatalf("INFO commandstats on %s: %v", rdb.Options().Addr, err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_wait:calls="); ok {
			n, err := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			if err != nil {
				t.Fatalf("INFO commandstats on %s: %q", rdb.Options().Addr, line)
			}
			return n
		}
	}
	return 0
}

// On a Redis Cluster the WAIT goes to the primary that took the writes, on
// their connection: with the slot's replica running no write is reported
// unreplicated and no other primary sees a WAIT (one there, on a
// connection of the cluster client's choosing, answers 0 after the whole
// wait, since those primaries have no replica). With the replica stalled
// the write goes ahead and OnUnreplicated is told.
func TestDurableWritesOnAClusterWaitOnTheSlotsPrimary(t *testing.T) {
	var mu sync.Mutex
	var told []string
	c, s, replica := clusterWithReplica(t, 10*time.Second, func(what string) { mu.Lock(); told = append(told, what); mu.Unlock() })
	ctx := context.Background()
	primary := c.PrimaryOf(s.keys.prefix)
	for i := range c.Servers {
		if err := c.NodeClient(i).ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	in := Intent{Channel: "C1", CardTS: "1700000000.000200", Requester: "U1", Run: commands.Run{ClusterID: 52, PackageID: 434}, Asked: time.Now()}
	writes := []func() error{
		func() error { _, err := s.Claim(ctx, "event:E3", time.Hour); return err },
		func() error { return s.SaveIntent(ctx, in) },
		func() error { _, err := s.MarkAttempt(ctx, 1002, xplenty.StatusCompleted, "r1"); return err },
		func() error { _, err := s.MarkDMAttempt(ctx, 1002, xplenty.StatusFailed, "r1"); return err },
		func() error { return s.Audit(ctx, AuditEntry{Action: "run", User: "U1", JobID: 1002}) },
	}
	for i, write := range writes {
		if err := write(); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	mu.Lock()
	if len(told) > 0 {
		t.Errorf("with the replica running, OnUnreplicated was told %v", told)
	}
	mu.Unlock()
	for i, srv := range c.Servers {
		n := waitCalls(t, ctx, c.NodeClient(i))
		want := 0
		if srv == primary {
			want = len(writes)
		}
		if n != want {
			t.Errorf("%s (the slot's primary: %v) ran WAIT %d times, want %d", srv.Addr, srv == primary, n, want)
		}
	}

	quick, err := New(s.rdb, Options{Prefix: s.keys.prefix, ReplicaWait: 100 * time.Millisecond,
		OnUnreplicated: func(what string) { mu.Lock(); told = append(told, what); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	replica.Pause()
	defer replica.Resume()
	checkClaimStandsUnreplicated(t, quick, "event:E4", &mu, &told)
}

// After a failover of the slot's primary the first durable write that
// reaches the old primary (now a replica) is refused with MOVED and does
// nothing; the next one goes to the new primary and waits for its
// replica, the old primary.
func TestDurableWriteOnAClusterFollowsAFailover(t *testing.T) {
	var mu sync.Mutex
	var told []string
	c, s, replica := clusterWithReplica(t, 10*time.Second, func(what string) { mu.Lock(); told = append(told, what); mu.Unlock() })
	ctx := context.Background()
	if _, err := s.Claim(ctx, "event:E5", time.Hour); err != nil {
		t.Fatalf("a claim before the failover: %v", err)
	}
	c.Failover(replica, s.keys.prefix)

	// The old primary answers MOVED; the claim goes again to the new one.
	first, err := s.Claim(ctx, "event:E6", time.Hour)
	if err != nil || !first {
		t.Fatalf("the first claim after the failover = %v, %v; want it made, on the new primary", first, err)
	}
	if again, err := s.Claim(ctx, "event:E6", time.Hour); err != nil || again {
		t.Fatalf("the same claim again = %v, %v; want refused (claimed once)", again, err)
	}
	onNew := redis.NewClient(&redis.Options{Addr: replica.Addr})
	defer onNew.Close()
	for _, e := range []string{"event:E5", "event:E6"} {
		if n, err := onNew.Exists(ctx, s.keys.Dedupe(e)).Result(); err != nil || n != 1 {
			t.Errorf("the new primary lacks the claim of %s (%d, %v)", e, n, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) > 0 {
		t.Errorf("OnUnreplicated was told %v; the new primary has the old one as its replica", told)
	}
}
