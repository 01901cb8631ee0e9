package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/notifier/redistest"
)

func opsGet(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthz(t *testing.T) {
	h := Handler(NewMetrics(version), Readiness{
		Slack: func() bool { return false },
		Redis: func(context.Context) error { return errors.New("down") },
	}, nil)
	// Alive even when not ready.
	if code, body := opsGet(t, h, http.MethodGet, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\"", code, body)
	}
	if code, _ := opsGet(t, h, http.MethodHead, "/healthz"); code != http.StatusOK {
		t.Errorf("HEAD /healthz = %d, want 200", code)
	}
	if code, _ := opsGet(t, h, http.MethodPost, "/healthz"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", code)
	}
	if code, _ := opsGet(t, h, http.MethodGet, "/healthz/x"); code != http.StatusNotFound {
		t.Errorf("GET /healthz/x = %d, want 404", code)
	}
	if code, _ := opsGet(t, h, http.MethodGet, "/"); code != http.StatusNotFound {
		t.Errorf("GET / = %d, want 404", code)
	}
}

// opsRedisReplyErr stands for an error reply of the Redis server.
type opsRedisReplyErr string

func (e opsRedisReplyErr) Error() string { return string(e) }
func (opsRedisReplyErr) RedisError()     {}

func TestReadyz(t *testing.T) {
	const secret = "s3cret-pw"
	refused := fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Net: "tcp",
		Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 6379},
		Err:  &net.OpError{Op: "connect", Err: syscall.ECONNREFUSED}})
	up := func() bool { return true }
	down := func() bool { return false }
	ok := func(context.Context) error { return nil }
	fail := func(err error) func(context.Context) error {
		return func(context.Context) error { return err }
	}
	for _, c := range []struct {
		name  string
		r     Readiness
		code  int
		body  string
		avoid []string
	}{
		{"all fine", Readiness{Slack: up, Redis: ok}, 200, "ready\n", nil},
		{"slack down", Readiness{Slack: down, Redis: ok}, 503, "slack: not connected\n", nil},
		{"redis refused", Readiness{Slack: up, Redis: fail(refused)}, 503, "redis: connection refused\n", []string{"10.1.2.3", "6379"}},
		{"redis auth", Readiness{Slack: up, Redis: fail(opsRedisReplyErr("WRONGPASS invalid username-password pair " + secret))}, 503, "redis: server error WRONGPASS\n", []string{secret}},
		{"redis url in error", Readiness{Slack: up, Redis: fail(errors.New("redis://:" + secret + "@redis:6379/0 unreachable"))}, 503, "redis: unavailable\n", []string{secret}},
		{"both down", Readiness{Slack: down, Redis: fail(redis.ErrClosed)}, 503, "slack: not connected\nredis: client closed\n", nil},
		{"redis hangs", Readiness{Slack: up, Redis: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}}, 503, "redis: timeout\n", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := opsGet(t, Handler(NewMetrics(version), c.r, nil), http.MethodGet, "/readyz")
			if code != c.code || body != c.body {
				t.Errorf("GET /readyz = %d %q, want %d %q", code, body, c.code, c.body)
			}
			for _, s := range c.avoid {
				if strings.Contains(body, s) {
					t.Errorf("GET /readyz tells %q: %q", s, body)
				}
			}
		})
	}
}

func TestReadyzRedisDeadline(t *testing.T) {
	var deadline time.Duration
	var hasDeadline bool
	h := Handler(nil, Readiness{Redis: func(ctx context.Context) error {
		var d time.Time
		d, hasDeadline = ctx.Deadline()
		deadline = time.Until(d)
		return nil
	}}, nil)
	if code, _ := opsGet(t, h, http.MethodGet, "/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200", code)
	}
	if !hasDeadline || deadline > readyRedisTimeout {
		t.Errorf("the Redis check has deadline %v (set %v), want at most %v", deadline, hasDeadline, readyRedisTimeout)
	}
}

func TestReadyRedisProblemClasses(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "timeout"},
		{fmt.Errorf("ping: %w", context.DeadlineExceeded), "timeout"},
		{&net.OpError{Op: "read", Err: opsTimeoutErr{}}, "timeout"},
		{&net.DNSError{Err: "no such host", Name: "redis.internal", IsNotFound: true}, "cannot resolve host"},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "connection refused"},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, "connection lost"},
		{io.EOF, "connection lost"},
		{redis.ErrPoolTimeout, "connection pool exhausted"},
		{opsRedisReplyErr("LOADING Redis is loading the dataset in memory"), "server error LOADING"},
		{opsRedisReplyErr("weird"), "server error"},
		{errors.New("something else at redis://:pw@host"), "unavailable"},
	} {
		if got := redisProblem(c.err); got != c.want {
			t.Errorf("redisProblem(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

type opsTimeoutErr struct{}

func (opsTimeoutErr) Error() string   { return "i/o timeout" }
func (opsTimeoutErr) Timeout() bool   { return true }
func (opsTimeoutErr) Temporary() bool { return true }

func TestReadyzRealRedis(t *testing.T) {
	rdb, _ := redistest.Client(t)
	ping := func(ctx context.Context) error { return rdb.Ping(ctx).Err() }
	h := Handler(NewMetrics(version), Readiness{Slack: func() bool { return true }, Redis: ping}, nil)
	if code, body := opsGet(t, h, http.MethodGet, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("GET /readyz with a real Redis = %d %q, want 200 \"ready\"", code, body)
	}

	// A server error reply is named by its code word only.
	err := rdb.Do(context.Background(), "NO-SUCH-COMMAND").Err()
	if got := redisProblem(err); got != "server error ERR" {
		t.Errorf("redisProblem(%v) = %q, want \"server error ERR\"", err, got)
	}

	// Nothing listens on a port just released.
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	addr := ln.Addr().String()
	ln.Close()
	gone := redis.NewClient(&redis.Options{Addr: addr, Password: "s3cret-pw", MaxRetries: -1})
	defer gone.Close()
	h = Handler(NewMetrics(version), Readiness{Slack: func() bool { return true }, Redis: func(ctx context.Context) error { return gone.Ping(ctx).Err() }}, nil)
	code, body := opsGet(t, h, http.MethodGet, "/readyz")
	if code != http.StatusServiceUnavailable || body != "redis: connection refused\n" {
		t.Errorf("GET /readyz with no Redis = %d %q, want 503 \"redis: connection refused\"", code, body)
	}
	if strings.Contains(body, addr) || strings.Contains(body, "s3cret") {
		t.Errorf("GET /readyz tells the address or password: %q", body)
	}
}
