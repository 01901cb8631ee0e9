package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/ops"
	"github.com/runjob/runjob/xplenty"
)

// Some tests need the bot as real processes: a replica SIGKILLed mid-work
// (nothing it held in memory survives, its sockets close at once) cannot
// be played by a goroutine. The test binary then starts itself as a bot:
// TestMain sees asBotEnv and runs the bot as main does (configuration from
// the environment, checked; app.Serve until SIGTERM), tuned like the
// in-process e2e tests, and tells the test what it does on stdout.

const (
	// asBotEnv makes the test binary run as a bot instead of the tests.
	asBotEnv = "RUNJOB_TEST_AS_BOT"
	// The test-only tuning of a bot process: its name (sent to Xplenty
	// in replicaHeader, so that a test sees who polled), a poll interval
	// below the 5 s POLL_INTERVAL allows, and the outbox's claim period.
	procNameEnv      = "RUNJOB_TEST_REPLICA"
	procPollEnv      = "RUNJOB_TEST_POLL_INTERVAL"
	procClaimIdleEnv = "RUNJOB_TEST_CLAIM_IDLE"
	// replicaHeader names the bot process on each of its HTTP requests.
	replicaHeader = "X-Runjob-Test-Replica"
	// procLine starts each line a bot process writes on stdout for the
	// test: "ready", "ops <addr>", "delivered <kind> <job> <status>".
	procLine = "runjob-test "
)

func TestMain(m *testing.M) {
	if os.Getenv(asBotEnv) == "1" {
		os.Exit(runAsBot())
	}
	os.Exit(m.Run())
}

// runAsBot is main's serve for a bot process of a test; it returns the
// exit code.
func runAsBot() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.Read(os.LookupEnv, config.ServeDefaults()).Check()
	if err != nil {
		fmt.Fprintf(os.Stderr, "runjob-bot: configuration:\n%v\n", err)
		return 1
	}
	if v := os.Getenv(procPollEnv); v != "" {
		if cfg.PollInterval, err = time.ParseDuration(v); err != nil {
			fmt.Fprintln(os.Stderr, "runjob-bot:", procPollEnv, err)
			return 1
		}
	}
	claimIdle, _ := time.ParseDuration(os.Getenv(procClaimIdleEnv))
	var mu sync.Mutex
	say := func(words ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(os.Stdout, append([]any{strings.TrimSpace(procLine)}, words...)...)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	d := app.Deps{
		Logger:       slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:      "test",
		Ready:        func() { say("ready") },
		OpsListening: func(a net.Addr) { say("ops", a.String()) },
		Hooks: ops.Hooks{Delivered: func(kind string, id int64, st xplenty.Status) {
			say("delivered", kind, id, st)
		}},
		ChannelRate: 1000, ChannelBurst: 1000, UpdateRate: 1000, ClaimIdle: claimIdle,
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: namedTransport{os.Getenv(procNameEnv), transport}},
	}
	if err := app.Serve(ctx, cfg, d); err != nil {
		fmt.Fprintln(os.Stderr, "runjob-bot:", err)
		return 1
	}
	return 0
}

// namedTransport adds replicaHeader to each request.
type namedTransport struct {
	name string
	next http.RoundTripper
}

func (n namedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(replicaHeader, n.name)
	return n.next.RoundTrip(r)
}

// proc is one bot process of a test.
type proc struct {
	name   string
	e      *e2e
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{} // closed when the process has ended
	err    error         // how it ended, once exited is closed

	mu      sync.Mutex
	lines   []string      // what it said on stdout, procLine cut off
	changed chan struct{} // closed and replaced on each line
}

// procEnv is the environment of the bot processes: e's configuration as
// the variables serve reads, and only those (a developer's REDIS_URL must
// not leak in), plus what the race detector and the toolchain need.
func (e *e2e) procEnv(redisMode, redisURL string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PATH", "HOME", "TMPDIR", "GORACE", "GOCOVERDIR", "SYSTEMROOT":
			env = append(env, kv)
		}
	}
	vars := map[string]string{
		"SLACK_APP_TOKEN": e.cfg.SlackAppToken, "SLACK_BOT_TOKEN": e.cfg.SlackBotToken, "SLACK_API_URL": e.cfg.SlackAPIURL,
		"XPLENTY_ACCOUNT_ID": e.cfg.XplentyAccountID, "XPLENTY_API_KEY": e.cfg.XplentyAPIKey, "XPLENTY_API_URL": e.cfg.XplentyURL,
		"REDIS_MODE": redisMode, "REDIS_URL": redisURL, "REDIS_PREFIX": e.cfg.RedisPrefix,
		"ALLOWED_USERS": "*", "ALLOWED_CHANNELS": "*", "RETENTION": "1h",
		"HTTP_ADDR": "127.0.0.1:0", "LOG_LEVEL": "debug",
		procPollEnv: "200ms", procClaimIdleEnv: "1s", asBotEnv: "1",
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// startProc starts a bot process named name with env; it is stopped (as
// SIGTERM would) when the test ends, unless it ended before.
func (e *e2e) startProc(name string, env []string) *proc {
	e.t.Helper()
	exe, err := os.Executable()
	if err != nil {
		e.t.Fatal(err)
	}
	p := &proc{name: name, e: e, stderr: &syncBuffer{}, exited: make(chan struct{}), changed: make(chan struct{})}
	p.cmd = exec.Command(exe, "-test.run=^$")
	p.cmd.Env = append(env[:len(env):len(env)], procNameEnv+"="+name)
	// The logs go to the test's buffer too, where checkNoSecrets looks.
	p.cmd.Stderr = io.MultiWriter(p.stderr, e.logs)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		e.t.Fatalf("start bot process %s: %v", name, err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), procLine); ok {
				p.mu.Lock()
				p.lines = append(p.lines, line)
				close(p.changed)
				p.changed = make(chan struct{})
				p.mu.Unlock()
			}
		}
	}()
	go func() {
		<-read
		p.err = p.cmd.Wait()
		close(p.exited)
		p.mu.Lock()
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}()
	e.t.Cleanup(func() { p.stop(false) })
	return p
}

// pid is the process id; the bot names itself in Redis (its outbox
// consumer, the lease's holder) host-pid-suffix.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// owns reports whether a replica name written in Redis is this process's.
func (p *proc) owns(replica string) bool {
	return strings.Contains(replica, "-"+strconv.Itoa(p.pid())+"-")
}

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// said returns the lines the process wrote for the test so far.
func (p *proc) said() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// waitLine waits until the process has written a line starting with
// prefix and returns it; it fails the test if the process ends first.
func (p *proc) waitLine(prefix string) string {
	p.e.t.Helper()
	deadline := time.After(procWait)
	for {
		p.mu.Lock()
		changed := p.changed
		for _, l := range p.lines {
			if strings.HasPrefix(l, prefix) {
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		select {
		case <-changed:
		case <-p.exited:
			p.e.t.Fatalf("bot process %s ended (%v) before saying %q%s", p.name, p.err, prefix, p.tail())
		case <-deadline:
			p.e.t.Fatalf("bot process %s did not say %q within %s%s", p.name, prefix, procWait, p.tail())
		}
	}
}

// procWait bounds each wait on a bot process: it guards against hangs and
// is no timing assertion (a process under the race detector on a busy
// machine takes seconds to start).
const procWait = 60 * time.Second

// opsURL is the address of the process's ops endpoint (HTTP_ADDR).
func (p *proc) opsURL(path string) string {
	p.e.t.Helper()
	addr := strings.TrimPrefix(p.waitLine("ops "), "ops ")
	return "http://" + addr + path
}

// kill ends the process at once (SIGKILL), as a crash or a lost node
// would, and waits until it is gone.
func (p *proc) kill() {
	p.e.t.Helper()
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(procWait):
		p.e.t.Fatalf("bot process %s outlived SIGKILL", p.name)
	}
}

// stop sends SIGTERM and waits for the process to end; unless it was
// killed or quiet, a process that ended with an error (or a data race,
// which the race detector reports by the exit code) fails the test.
func (p *proc) stop(quiet bool) {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(procWait):
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.e.t.Errorf("bot process %s did not stop on SIGTERM%s", p.name, p.tail())
		return
	}
	if p.err != nil && !quiet {
		p.e.t.Errorf("bot process %s exited with %v, want 0%s", p.name, p.err, p.tail())
	}
}

// tail is the end of the process's log, for a failure message, with the
// tokens and keys of the test blanked out should one be there.
func (p *proc) tail() string {
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	text := strings.Join(lines, "\n")
	for _, s := range []string{p.e.cfg.SlackBotToken, p.e.cfg.SlackAppToken, p.e.cfg.XplentyAPIKey} {
		if s != "" {
			text = strings.ReplaceAll(text, s, "[secret]")
		}
	}
	return "\n--- the end of its log:\n" + text
}

// startProcs starts bot processes with the names and waits until each is
// connected to the fake Slack and the catalog is read.
func (e *e2e) startProcs(env []string, names ...string) []*proc {
	e.t.Helper()
	ps := make([]*proc, len(names))
	for i, n := range names {
		ps[i] = e.startProc(n, env)
	}
	for _, p := range ps {
		p.waitLine("ready")
	}
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	e.waitCatalog(ctx)
	return ps
}

// procOf returns the process of ps that a replica name written in Redis
// belongs to.
func procOf(ps []*proc, replica string) (*proc, error) {
	for _, p := range ps {
		if p.owns(replica) {
			return p, nil
		}
	}
	return nil, errors.New("no bot process of this test is " + replica)
}
