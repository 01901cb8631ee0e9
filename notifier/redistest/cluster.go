package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// clusterNodeTimeout is how long a cluster node may not answer before the
// others suspect it. Tests never kill a node of the cluster, so it is
// Redis's default: a shorter one could fail a node that a loaded machine
// (the race detector on two cores) keeps busy for a few seconds.
const clusterNodeTimeout = 15 * time.Second

// Cluster is a Redis Cluster of one test: three primaries, each a
// redis-server on a free loopback port owning a third of the hash slots,
// and the replicas the test adds (AddReplica), all stopped when the test
// ends.
type Cluster struct {
	t       testing.TB
	Servers []*Server // the three nodes StartCluster made primaries
	// Replicas are the nodes AddReplica added, in order.
	Replicas []*Server
	nodes    map[string]*redis.Client
}

// StartCluster starts three redis-server in cluster mode, joins them
// (CLUSTER MEET), gives each a third of the slots (CLUSTER ADDSLOTSRANGE)
// and waits until every node says cluster_state:ok and knows the three
// primaries. The test is skipped, saying why, where redis-server is not
// installed (.ci/run installs it).
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skipf("skipped: a Redis Cluster needs redis-server, which is not installed: %v", err)
	}
	c := &Cluster{t: t}
	for range 3 {
		srv := newServer(t)
		srv.extra = clusterFlags()
		srv.start()
		t.Cleanup(srv.Stop)
		c.Servers = append(c.Servers, srv)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := c.node(c.Servers[0].Addr)
	for i, srv := range c.Servers {
		if i > 0 {
			host, port, _ := net.SplitHostPort(srv.Addr)
			if err := first.ClusterMeet(ctx, host, port).Err(); err != nil {
				t.Fatalf("CLUSTER MEET %s: %v", srv.Addr, err)
			}
		}
		lo, hi := i*clusterSlots/3, (i+1)*clusterSlots/3-1
		if err := c.node(srv.Addr).ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			// Before Redis 7.0 there is no ADDSLOTSRANGE: name each slot.
			slots := make([]int, 0, hi-lo+1)
			for s := lo; s <= hi; s++ {
				slots = append(slots, s)
			}
			if err2 := c.node(srv.Addr).ClusterAddSlots(ctx, slots...).Err(); err2 != nil {
				t.Fatalf("CLUSTER ADDSLOTSRANGE %d %d on %s: %v; CLUSTER ADDSLOTS: %v", lo, hi, srv.Addr, err, err2)
			}
		}
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		err := c.ready()
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 60s for the cluster to form: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready is nil once every node says cluster_state:ok and knows three
// primaries that serve slots.
func (c *Cluster) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range c.Servers {
		info, err := c.node(srv.Addr).ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("CLUSTER INFO on %s: %w", srv.Addr, err)
		}
		for _, want := range []string{"cluster_state:ok", "cluster_known_nodes:3", "cluster_size:3"} {
			if !strings.Contains(info, want+"\r\n") {
				return fmt.Errorf("%s does not say %s yet", srv.Addr, want)
			}
		}
	}
	return nil
}

// node is a plain client of one node (which answers MOVED for keys of
// other nodes' slots), one per address, closed when the test ends.
func (c *Cluster) node(addr string) *redis.Client {
	if rdb, ok := c.nodes[addr]; ok {
		return rdb
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	c.t.Cleanup(func() { _ = rdb.Close() })
	if c.nodes == nil {
		c.nodes = map[string]*redis.Client{}
	}
	c.nodes[addr] = rdb
	return rdb
}

// Addrs are the addresses of the three primaries.
func (c *Cluster) Addrs() []string {
	var addrs []string
	for _, srv := range c.Servers {
		addrs = append(addrs, srv.Addr)
	}
	return addrs
}

// URL is the cluster as REDIS_URL gives it with REDIS_MODE=cluster: one
// node as the host, the others as addr= (go-redis' ParseClusterURL).
func (c *Cluster) URL() string {
	addrs := c.Addrs()
	u := "redis://" + addrs[0]
	for i, a := range addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + a
	}
	return u
}

// Client returns a cluster client of the three primaries, closed when the
// test ends.
func (c *Cluster) Client() *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true})
	c.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// NodeClient returns a plain client of one primary (for a test that
// publishes from, or reads, one node in particular), closed when the test
// ends.
func (c *Cluster) NodeClient(i int) *redis.Client { return c.node(c.Servers[i].Addr) }
