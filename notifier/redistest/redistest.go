// Package redistest gives tests a real Redis: the one answering on
// 127.0.0.1:6379 (or $RUNJOB_TEST_REDIS_ADDR) when there is one, otherwise a
// redis-server of their own on a free port. Tests are isolated from each
// other by a unique key prefix, not by flushing, so they can share a server.
// StartSentinel starts a Sentinel setup of a test's own (primary, replica,
// three sentinels) for code that must survive a failover, and StartCluster
// a Redis Cluster of three primaries. Rerun runs a package's tests again on
// such a topology: there Client gives clients of it.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var seq atomic.Int64

// Prefix returns a key prefix unique to this test run and call. In a
// re-run on a Cluster (Mode "cluster") it is a hash tag of its own,
// "{runjobtest:…}:", as store.EffectivePrefix would make it: a test that
// builds a key from it names the key the store uses.
func Prefix(t testing.TB) string {
	p := fmt.Sprintf("runjobtest:%d:%d:%d", os.Getpid(), time.Now().UnixNano(), seq.Add(1))
	if Mode() == ModeCluster {
		return "{" + p + "}:"
	}
	return p + ":"
}

// Client returns a client of a real Redis and a key prefix unique to the
// test. Keys under the prefix are deleted when the test ends. In a re-run
// (Rerun) the client is one of the topology the re-run is on.
func Client(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	rdb := topologyClient(t)
	if rdb == nil {
		addr := os.Getenv("RUNJOB_TEST_REDIS_ADDR")
		if addr == "" {
			addr = "127.0.0.1:6379"
		}
		rdb = redis.NewClient(&redis.Options{Addr: addr})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := rdb.Ping(ctx).Err(); err != nil {
			_ = rdb.Close()
			srv := Start(t)
			rdb = srv.Client()
		}
	}
	prefix := Prefix(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, _ := ScanKeys(ctx, rdb, prefix+"*")
		for _, k := range keys {
			rdb.Del(ctx, k)
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}

// ScanKeys returns the keys of rdb that match pattern (SCAN's MATCH), from
// every primary of a Cluster (a SCAN reaches one node only).
func ScanKeys(ctx context.Context, rdb redis.UniversalClient, pattern string) ([]string, error) {
	scan := func(ctx context.Context, c redis.UniversalClient) ([]string, error) {
		var keys []string
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		return keys, iter.Err()
	}
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return scan(ctx, rdb)
	}
	var mu sync.Mutex
	var all []string
	err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		keys, err := scan(ctx, node)
		mu.Lock()
		all = append(all, keys...)
		mu.Unlock()
		return err
	})
	return all, err
}

// Addr is the address of the one server rdb, a client from Client or
// Server.Client, talks to (for a test that must give the bot a URL). In a
// re-run on a Cluster or a Sentinel setup (Mode) there is no such server:
// the test is skipped, saying so.
func Addr(t testing.TB, rdb redis.UniversalClient) string {
	t.Helper()
	if m := Mode(); m != "" {
		t.Skipf("skipped on %s: the test gives the address of one server", m)
	}
	c, ok := rdb.(*redis.Client)
	if !ok {
		t.Fatalf("redistest.Addr: %T is not a client of one server", rdb)
	}
	return c.Options().Addr
}

// Server is a redis-server process owned by one test.
type Server struct {
	t    testing.TB
	Addr string
	dir  string
	cmd  *exec.Cmd
	// conf, when set, is a configuration file given before the flags;
	// extra are flags after the usual ones (a replica's --replicaof, a
	// sentinel's --sentinel).
	conf  string
	extra []string
}

// Start runs a new redis-server on a free loopback port; it is stopped when
// the test ends. The test fails with a clear message when redis-server is
// not installed (.ci/run installs it): a test of Redis code that skipped
// would pass having checked nothing.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed and none answers on 127.0.0.1:6379: %v", err)
	}
	s := &Server{t: t, dir: t.TempDir()}
	s.Addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	var args []string
	if s.conf != "" {
		args = append(args, s.conf)
	}
	args = append(args, "--port", port, "--bind", "127.0.0.1", "--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"))
	if s.conf == "" {
		args = append(args, "--save", "", "--appendonly", "yes", "--appendfilename", "test.aof")
	}
	s.cmd = exec.Command("redis-server", append(args, s.extra...)...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not answer: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Client returns a new client of this server, closed when the test ends.
func (s *Server) Client() redis.UniversalClient {
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	s.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Stop shuts the server down; its append-only file stays, so Restart brings the
// data back like a real restart of a persistent Redis.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// SIGTERM makes Redis flush its append-only file, like a clean restart
	// (a paused server is let go on first, or it would not hear it).
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Kill ends the server at once (SIGKILL), as a crash or a lost machine
// would: nothing is flushed.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Pause stops the server's process (SIGSTOP) without ending it: its
// connections stay open but it answers nothing, a replica acknowledges no
// write, like a stalled node, until Resume.
func (s *Server) Pause() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGSTOP)
	}
}

// Resume lets a paused server go on (SIGCONT).
func (s *Server) Resume() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Restart stops the server and starts it again on the same address.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
