package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterFlags are the flags of a redis-server that is a node of a test's
// cluster. A primary sends a new replica its data at once, not after the
// default 5 s spent waiting for other replicas to share the transfer.
func clusterFlags() []string {
	return []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", strconv.FormatInt(clusterNodeTimeout.Milliseconds(), 10),
		"--repl-diskless-sync-delay", "0"}
}

// PrimaryOf is the node that owns key's hash slot now, as the first
// primary's CLUSTER SLOTS says (after Failover, a replica the test added).
func (c *Cluster) PrimaryOf(key string) *Server {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := c.slotOwner(ctx, c.Servers[0].Addr, key)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, srv := range append(append([]*Server(nil), c.Servers...), c.Replicas...) {
		if srv.Addr == addr {
			return srv
		}
	}
	c.t.Fatalf("the slot of %q is owned by %s, not a node of this cluster", key, addr)
	return nil
}

// slotOwner is the address of the primary of key's slot as the node at
// addr sees it.
func (c *Cluster) slotOwner(ctx context.Context, addr, key string) (string, error) {
	rdb := c.node(addr)
	slot, err := rdb.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return "", fmt.Errorf("CLUSTER KEYSLOT on %s: %w", addr, err)
	}
	// CLUSTER SLOTS, not SHARDS: it is what go-redis' cluster client
	// reads, and Redis before 7.0 has no SHARDS.
	//lint:ignore SA1019 see above
	slots, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("CLUSTER SLOTS on %s: %w", addr, err)
	}
	for _, r := range slots {
		if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("%s says no node owns slot %d", addr, slot)
}

// AddReplica starts another redis-server in cluster mode and makes it a
// replica of the primary that owns key's hash slot (CLUSTER MEET, then
// CLUSTER REPLICATE), and returns it once its link to the primary is up,
// the primary counts it among its connected replicas, and every node
// knows it. It is stopped when the test ends.
func (c *Cluster) AddReplica(key string) *Server {
	c.t.Helper()
	primary := c.PrimaryOf(key)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := c.node(primary.Addr).ClusterMyID(ctx).Result()
	if err != nil {
		c.t.Fatalf("CLUSTER MYID on %s: %v", primary.Addr, err)
	}
	srv := newServer(c.t)
	srv.extra = clusterFlags()
	srv.start()
	c.t.Cleanup(srv.Stop)
	host, port, _ := net.SplitHostPort(primary.Addr)
	if err := c.node(srv.Addr).ClusterMeet(ctx, host, port).Err(); err != nil {
		c.t.Fatalf("CLUSTER MEET %s from %s: %v", primary.Addr, srv.Addr, err)
	}
	c.Replicas = append(c.Replicas, srv)
	known := "cluster_known_nodes:" + strconv.Itoa(len(c.Servers)+len(c.Replicas))
	// The new node learns the primary's id over the cluster bus: until
	// then CLUSTER REPLICATE says the node is unknown.
	c.await("the new node to replicate "+primary.Addr, func(ctx context.Context) error {
		if err := c.node(srv.Addr).ClusterReplicate(ctx, id).Err(); err != nil {
			return fmt.Errorf("CLUSTER REPLICATE %s on %s: %w", id, srv.Addr, err)
		}
		return nil
	})
	c.await("the replica's link to be up and every node to know it", func(ctx context.Context) error {
		if err := infoSays(ctx, c, srv.Addr, "replication", "master_link_status:up"); err != nil {
			return err
		}
		if n, err := connectedReplicas(ctx, c.node(primary.Addr)); err != nil || n < 1 {
			return fmt.Errorf("%s has %d connected replicas (%v)", primary.Addr, n, err)
		}
		for _, s := range append(append([]*Server(nil), c.Servers...), c.Replicas...) {
			info, err := c.node(s.Addr).ClusterInfo(ctx).Result()
			if err != nil {
				return fmt.Errorf("CLUSTER INFO on %s: %w", s.Addr, err)
			}
			if !strings.Contains(info, known+"\r\n") || !strings.Contains(info, "cluster_state:ok\r\n") {
				return fmt.Errorf("%s does not say %s and cluster_state:ok yet", s.Addr, known)
			}
			// A primary votes in a failover only for a node it knows as
			// a replica.
			if err := c.knowsReplica(ctx, s.Addr, srv.Addr, id); err != nil {
				return err
			}
		}
		return nil
	})
	return srv
}

// Failover makes replica (from AddReplica) the primary of its slots with
// CLUSTER FAILOVER, the manual failover that waits until the replica has
// every write of its primary, and returns once every node says the
// replica owns key's slot and the old primary is its connected replica.
func (c *Cluster) Failover(replica *Server, key string) {
	c.t.Helper()
	old := c.PrimaryOf(key)
	var asked time.Time
	c.await(replica.Addr+" to own the slot of "+key+" everywhere", func(ctx context.Context) error {
		// A manual failover the primaries did not vote for in time
		// (CLUSTER_MF_TIMEOUT, 5 s) is given up: ask again.
		if time.Since(asked) > 10*time.Second {
			if err := c.node(replica.Addr).ClusterFailover(ctx).Err(); err != nil {
				return fmt.Errorf("CLUSTER FAILOVER on %s: %w", replica.Addr, err)
			}
			asked = time.Now()
		}
		for _, s := range append(append([]*Server(nil), c.Servers...), c.Replicas...) {
			owner, err := c.slotOwner(ctx, s.Addr, key)
			if err != nil {
				return err
			}
			if owner != replica.Addr {
				return fmt.Errorf("%s says %s owns the slot", s.Addr, owner)
			}
		}
		if err := infoSays(ctx, c, old.Addr, "replication", "master_link_status:up"); err != nil {
			return err
		}
		if n, err := connectedReplicas(ctx, c.node(replica.Addr)); err != nil || n < 1 {
			return fmt.Errorf("%s has %d connected replicas (%v)", replica.Addr, n, err)
		}
		return nil
	})
}

// await retries check until it is nil, failing the test after a minute
// (a loaded machine may take seconds to gossip).
func (c *Cluster) await(what string, check func(ctx context.Context) error) {
	c.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := check(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waited a minute for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// knowsReplica is nil when the node at addr knows the node at replica as
// a replica of the primary whose id is primary (CLUSTER NODES).
func (c *Cluster) knowsReplica(ctx context.Context, addr, replica, primary string) error {
	nodes, err := c.node(addr).ClusterNodes(ctx).Result()
	if err != nil {
		return fmt.Errorf("CLUSTER NODES on %s: %w", addr, err)
	}
	for _, line := range strings.Split(nodes, "\n") {
		// <id> <ip:port@cport> <flags> <master id> ...
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasPrefix(f[1], replica+"@") {
			if strings.Contains(f[2], "slave") && f[3] == primary {
				return nil
			}
			return fmt.Errorf("%s says %s is %s of %s", addr, replica, f[2], f[3])
		}
	}
	return fmt.Errorf("%s does not know %s yet", addr, replica)
}

// infoSays is nil when INFO section of the node at addr has the line want.
func infoSays(ctx context.Context, c *Cluster, addr, section, want string) error {
	info, err := c.node(addr).Info(ctx, section).Result()
	if err != nil {
		return fmt.Errorf("INFO %s on %s: %w", section, addr, err)
	}
	if !strings.Contains(info, want+"\r\n") {
		return fmt.Errorf("%s does not say %s yet", addr, want)
	}
	return nil
}

// connectedReplicas is the connected_slaves of the primary rdb reaches.
func connectedReplicas(ctx context.Context, rdb *redis.Client) (int, error) {
	info, err := rdb.InfoMap(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	v, ok := info["Replication"]["connected_slaves"]
	if !ok {
		return 0, fmt.Errorf("INFO replication of %s has no connected_slaves", rdb.Options().Addr)
	}
	return strconv.Atoi(v)
}
