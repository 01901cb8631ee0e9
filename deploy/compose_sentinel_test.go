package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
)

// TestDeployComposeSentinelFailsOver runs the compose profile "sentinel"
// without Docker: its Redis servers with the arguments compose.yaml gives
// them and its three sentinels from sentinel.conf, each on a free loopback
// port instead of its service name. The bot's REDIS_URL (hosts mapped the
// same way) must reach the primary through config.ParseRedis, and still
// reach the data after the primary is killed and the sentinels promote the
// replica.
func TestDeployComposeSentinelFailsOver(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (.ci/run installs it): the sentinel profile is checked by reading it only")
	}
	if testing.Short() {
		t.Skip("-short: a failover takes the sentinels' down-after-milliseconds and more")
	}
	st := deployReadSentinelStack(t)
	c := st.compose
	dir := t.TempDir()

	ports := map[string]string{} // service -> loopback port
	for _, name := range append(append([]string{st.primary}, st.replicas...), st.sentinels...) {
		ports[name] = deployFreePort(t)
	}
	// The test's own redis-server processes, by service.
	type proc struct {
		cmd  *exec.Cmd
		done chan struct{} // closed when it has exited
		err  error         // its exit, once done is closed
		log  string
	}
	procs := map[string]*proc{}
	kill := func(p *proc) {
		_ = p.cmd.Process.Kill() // by its pid; a no-op once it has exited
		<-p.done
	}
	start := func(name string, args ...string) {
		p := &proc{cmd: exec.Command(server, args...), done: make(chan struct{}), log: filepath.Join(dir, name+".log")}
		log, err := os.Create(p.log)
		if err != nil {
			t.Fatal(err)
		}
		p.cmd.Stdout, p.cmd.Stderr = log, log
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		go func() { p.err = p.cmd.Wait(); close(p.done) }()
		procs[name] = p
		t.Cleanup(func() {
			kill(p)
			log.Close()
			if t.Failed() {
				if b, err := os.ReadFile(p.log); err == nil {
					t.Logf("%s's log:\n%s", name, deployTail(string(b), 20))
				}
			}
		})
	}
	ctx := context.Background()
	ping := func(name string) {
		rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", ports[name])})
		defer rdb.Close()
		deployWaitFor(t, name+" answers PING", 10*time.Second, func() error {
			select {
			case <-procs[name].done:
				t.Fatalf("%s exited at start (%v): see its log below", name, procs[name].err)
			default:
			}
			return rdb.Ping(ctx).Err()
		})
	}

	// The Redis servers, as compose runs them: a service name becomes
	// 127.0.0.1, and the port 6379 after it that service's port.
	nodeArgs := map[string][]string{}
	for _, name := range append([]string{st.primary}, st.replicas...) {
		args := slices.Clone(c.Services[name].args())
		if len(args) == 0 || args[0] != "redis-server" {
			t.Fatalf("compose %s: command %v does not start with redis-server", name, args)
		}
		args = args[1:]
		for i, a := range args {
			if _, ok := ports[a]; ok {
				if i+1 < len(args) && args[i+1] == "6379" {
					args[i+1] = ports[a]
				}
				args[i] = "127.0.0.1"
			}
		}
		nodeDir := filepath.Join(dir, name)
		if err := os.Mkdir(nodeDir, 0o700); err != nil {
			t.Fatal(err)
		}
		nodeArgs[name] = append(args, "--port", ports[name], "--bind", "127.0.0.1", "--dir", nodeDir, "--save", "")
		start(name, nodeArgs[name]...)
		ping(name)
	}

	// The sentinels, from sentinel.conf: its port, dir and monitored host
	// mapped the same way.
	for _, name := range st.sentinels {
		sdir := filepath.Join(dir, name)
		if err := os.Mkdir(sdir, 0o700); err != nil {
			t.Fatal(err)
		}
		var conf []string
		for _, line := range st.conf {
			f := strings.Fields(line)
			switch {
			case f[0] == "port":
				line = "port " + ports[name]
			case f[0] == "dir":
				line = "dir " + sdir
			case len(f) == 6 && f[1] == "monitor":
				line = strings.Join([]string{f[0], f[1], f[2], "127.0.0.1", ports[f[3]], f[5]}, " ")
			}
			conf = append(conf, line)
		}
		path := filepath.Join(sdir, "sentinel.conf")
		if err := os.WriteFile(path, []byte(strings.Join(append(conf, "bind 127.0.0.1", ""), "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		start(name, path, "--sentinel")
		ping(name)
	}

	// The bot's URL, its sentinels mapped to their ports.
	rawURL := c.Services["bot-sentinel"].Environment["REDIS_URL"]
	for _, name := range st.sentinels {
		rawURL = strings.ReplaceAll(rawURL, net.JoinHostPort(name, "26379"), net.JoinHostPort("127.0.0.1", ports[name]))
	}
	r, err := config.ParseRedis(config.RedisSentinel, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewFailoverClient(r.Sentinel)
	t.Cleanup(func() { rdb.Close() })
	key := "runjob-deploy-test:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	deployWaitFor(t, "a write through the sentinels", 20*time.Second, func() error {
		return rdb.Set(ctx, key, "before", 0).Err()
	})
	// Every replica has it before the primary dies (a write the replica
	// never received is lost by any Sentinel failover).
	if n, err := rdb.Do(ctx, "WAIT", len(st.replicas), 5000).Int(); err != nil || n < len(st.replicas) {
		t.Fatalf("WAIT for %d replicas: %d, %v", len(st.replicas), n, err)
	}
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", ports[st.sentinels[0]])})
	t.Cleanup(func() { sentinel.Close() })
	primaryAddr := func() string {
		a, err := sentinel.GetMasterAddrByName(ctx, st.master).Result()
		if err != nil || len(a) != 2 {
			return ""
		}
		return a[1]
	}
	deployWaitFor(t, "the sentinels to know the replica and each other", 20*time.Second, func() error {
		replicas, err := sentinel.Replicas(ctx, st.master).Result()
		if err != nil {
			return err
		}
		others, err := sentinel.Sentinels(ctx, st.master).Result()
		if err != nil {
			return err
		}
		if len(replicas) < len(st.replicas) || len(others) < len(st.sentinels)-1 {
			return fmt.Errorf("%d replicas, %d other sentinels", len(replicas), len(others))
		}
		return nil
	})
	if got := primaryAddr(); got != ports[st.primary] {
		t.Fatalf("the sentinels name port %s as primary, want %s's %s", got, st.primary, ports[st.primary])
	}

	// Kill the primary: the sentinels agree and promote a replica, and the
	// bot's client follows.
	kill(procs[st.primary])
	deployWaitFor(t, "the sentinels to promote a replica", 60*time.Second, func() error {
		if got := primaryAddr(); got == ports[st.primary] || got == "" {
			return errors.New("the primary is still " + st.primary)
		}
		return nil
	})
	deployWaitFor(t, "a write after the failover", 30*time.Second, func() error {
		return rdb.Set(ctx, key+":after", "after", 0).Err()
	})
	if got, err := rdb.Get(ctx, key).Result(); err != nil || got != "before" {
		t.Errorf("after the failover, %s = %q, %v; want the value written before", key, got, err)
	}

	// The old primary comes back (`docker compose start`, with its own
	// arguments): the sentinels make it a replica of the new one.
	newPrimary := primaryAddr()
	start(st.primary+"-again", nodeArgs[st.primary]...)
	old := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", ports[st.primary])})
	t.Cleanup(func() { old.Close() })
	deployWaitFor(t, "the old primary to come back as a replica", 60*time.Second, func() error {
		role, err := old.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) < 3 || role[0] != "slave" || fmt.Sprint(role[2]) != newPrimary {
			return fmt.Errorf("ROLE %v, want a replica of port %s", role, newPrimary)
		}
		return nil
	})
}

// deployFreePort is a loopback port nothing listens on now.
func deployFreePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// deployWaitFor retries cond until it succeeds, failing the test after
// limit with its last error.
func deployWaitFor(t *testing.T, what string, limit time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v after %s", what, err, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deployTail is the last n lines of s.
func deployTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
