package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the sentinels of StartSentinel know the primary by.
const MasterName = "runjobtest"

// Sentinel is a Redis Sentinel setup of one test: a primary, a replica of
// it and three sentinels (quorum 2), each a redis-server on a free
// loopback port, all stopped when the test ends.
type Sentinel struct {
	t testing.TB
	// Servers are the primary (first, at the start) and the replica;
	// after a failover the roles are swapped (Primary says which is which).
	Servers   []*Server
	Sentinels []*Server
	clients   map[string]*redis.Client
}

// StartSentinel starts the setup and waits until the replica is in sync
// and every sentinel knows the replica and the two other sentinels, so a
// failover can happen. The test is skipped, saying why, where redis-server
// is not installed (.ci/run installs it).
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skipf("skipped: a Sentinel setup needs redis-server, which is not installed: %v", err)
	}
	s := &Sentinel{t: t}
	primary := newServer(t)
	primary.start()
	t.Cleanup(primary.Stop)
	replica := newServer(t)
	host, port, _ := net.SplitHostPort(primary.Addr)
	replica.extra = []string{"--replicaof", host, port}
	replica.start()
	t.Cleanup(replica.Stop)
	s.Servers = []*Server{primary, replica}

	for range 3 {
		sn := newServer(t)
		sn.conf = filepath.Join(sn.dir, "sentinel.conf")
		// Quick detection and failover: a test waits seconds, not minutes.
		conf := fmt.Sprintf("sentinel monitor %s %s %s 2\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 10000\n"+
			"sentinel parallel-syncs %[1]s 1\n", MasterName, host, port)
		if err := os.WriteFile(sn.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		sn.extra = []string{"--sentinel"}
		sn.start()
		t.Cleanup(sn.Stop)
		s.Sentinels = append(s.Sentinels, sn)
	}

	s.waitFor("the replica to sync and every sentinel to know the replica and the other sentinels", 60*time.Second, func(ctx context.Context) error {
		info, err := s.client(replica.Addr).Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return errors.New("the replica's link to the primary is not up")
		}
		for _, sn := range s.Sentinels {
			sc := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr})
			replicas, err := sc.Replicas(ctx, MasterName).Result()
			if err == nil && len(replicas) != 1 {
				err = fmt.Errorf("sentinel %s knows %d replicas", sn.Addr, len(replicas))
			}
			if err == nil {
				var others []map[string]string
				if others, err = sc.Sentinels(ctx, MasterName).Result(); err == nil && len(others) != 2 {
					err = fmt.Errorf("sentinel %s knows %d other sentinels", sn.Addr, len(others))
				}
			}
			_ = sc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	return s
}

func newServer(t testing.TB) *Server {
	return &Server{t: t, dir: t.TempDir(), Addr: "127.0.0.1:" + strconv.Itoa(freePort(t))}
}

// SentinelAddrs are the addresses of the three sentinels.
func (s *Sentinel) SentinelAddrs() []string {
	var addrs []string
	for _, sn := range s.Sentinels {
		addrs = append(addrs, sn.Addr)
	}
	return addrs
}

// URL is the setup as REDIS_URL gives it with REDIS_MODE=sentinel.
func (s *Sentinel) URL() string {
	addrs := s.SentinelAddrs()
	u := "redis://" + addrs[0] + "/0?master_name=" + MasterName
	for _, a := range addrs[1:] {
		u += "&addr=" + a
	}
	return u
}

// Client returns a failover client of the setup (it follows the primary
// the sentinels name), closed when the test ends.
func (s *Sentinel) Client() redis.UniversalClient {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: MasterName, SentinelAddrs: s.SentinelAddrs(), ContextTimeoutEnabled: true,
	})
	s.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Primary is the server the sentinels name as primary now.
func (s *Sentinel) Primary() *Server {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, sn := range s.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr})
		hp, err := sc.GetMasterAddrByName(ctx, MasterName).Result()
		_ = sc.Close()
		if err != nil || len(hp) != 2 {
			continue
		}
		for _, srv := range s.Servers {
			if srv.Addr == net.JoinHostPort(hp[0], hp[1]) {
				return srv
			}
		}
	}
	s.t.Fatalf("no sentinel names a primary of the setup")
	return nil
}

// KillPrimary kills the primary (SIGKILL) and waits until a majority of
// the sentinels name the replica as the new primary and it answers as
// one; it returns the new primary.
func (s *Sentinel) KillPrimary() *Server {
	s.t.Helper()
	old := s.Primary()
	old.Kill()
	var next *Server
	for _, srv := range s.Servers {
		if srv != old {
			next = srv
		}
	}
	s.waitFor("the sentinels to promote "+next.Addr, 90*time.Second, func(ctx context.Context) error {
		agree := 0
		for _, sn := range s.Sentinels {
			sc := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr})
			hp, err := sc.GetMasterAddrByName(ctx, MasterName).Result()
			_ = sc.Close()
			if err == nil && len(hp) == 2 && net.JoinHostPort(hp[0], hp[1]) == next.Addr {
				agree++
			}
		}
		if agree < 2 {
			return fmt.Errorf("%d of 3 sentinels name it", agree)
		}
		role, err := s.client(next.Addr).Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("it answers ROLE %v", role)
		}
		return nil
	})
	return next
}

// client is a plain client of one server of the setup, one per address.
func (s *Sentinel) client(addr string) *redis.Client {
	if rdb, ok := s.clients[addr]; ok {
		return rdb
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	s.t.Cleanup(func() { _ = rdb.Close() })
	if s.clients == nil {
		s.clients = map[string]*redis.Client{}
	}
	s.clients[addr] = rdb
	return rdb
}

// waitFor polls cond until it returns nil, failing the test with what it
// waited for and the last reason when limit passes first.
func (s *Sentinel) waitFor(what string, limit time.Duration, cond func(context.Context) error) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited %s for %s: %v", limit, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
