package ops

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// endless is a body that never ends, counting what was read of it.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '{'
	}
	e.n += len(p)
	return len(p), nil
}

type wakeCounter struct {
	mu  sync.Mutex
	n   int
	err error
}

func (w *wakeCounter) wake(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	return w.err
}

func (w *wakeCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func hookRequest(method, user, password string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, HookPath, body)
	if user != "" || password != "" {
		r.SetBasicAuth(user, password)
	}
	return r
}

func serveHook(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestHookPathIsOffWithoutCredentials(t *testing.T) {
	h := Handler(NewMetrics(version), Readiness{}, nil)
	for _, m := range []string{http.MethodPost, http.MethodGet} {
		if rec := serveHook(h, hookRequest(m, "xplenty", "s3cret-Pa55", strings.NewReader("{}"))); rec.Code != http.StatusNotFound {
			t.Errorf("%s %s without XPLENTY_HOOK_AUTH = %d, want 404", m, HookPath, rec.Code)
		}
	}
}

func TestHookWakesTheWatcherOnlyWithTheRightCredentials(t *testing.T) {
	const user, password = "xplenty", "s3cret-Pa55"
	var logs bytes.Buffer
	w := &wakeCounter{}
	m := NewMetrics(version)
	h := Handler(m, Readiness{}, &XplentyHook{User: user, Password: password, Wake: w.wake,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	// The right credentials: woken, whatever the body, of which a bounded
	// amount is read.
	body := &endless{}
	if rec := serveHook(h, hookRequest(http.MethodPost, user, password, body)); rec.Code != http.StatusNoContent || w.count() != 1 {
		t.Fatalf("good hook: %d, %d wake-ups; want 204 and 1", rec.Code, w.count())
	}
	if body.n > maxHookBody+32<<10 {
		t.Errorf("read %d bytes of an endless body, want at most about %d", body.n, maxHookBody)
	}
	for _, b := range []string{"", "not json", `{"id": "<!channel>"}`} {
		if rec := serveHook(h, hookRequest(http.MethodPost, user, password, strings.NewReader(b))); rec.Code != http.StatusNoContent {
			t.Errorf("body %q: %d, want 204 (the payload is neither trusted nor required)", b, rec.Code)
		}
	}

	// Anything else: 401 with a challenge, and no wake-up.
	before := w.count()
	for _, c := range [][2]string{
		{user, "s3cret-Pa5"}, {user, "s3cret-Pa55x"}, {user, ""}, {"XPLENTY-user", password}, {"", password},
		{"guessed-user", "guessed-password"}, {password, user}, {"", ""},
	} {
		rec := serveHook(h, hookRequest(http.MethodPost, c[0], c[1], strings.NewReader("{}")))
		if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("credentials %q: %d %v, want 401 with a Basic challenge", c, rec.Code, rec.Header())
		}
	}
	r := hookRequest(http.MethodPost, "", "", nil)
	r.Header.Set("Authorization", "Bearer "+password)
	if rec := serveHook(h, r); rec.Code != http.StatusUnauthorized {
		t.Errorf("a bearer token: %d, want 401", rec.Code)
	}
	if w.count() != before {
		t.Errorf("%d wake-ups from refused hooks", w.count()-before)
	}

	// Other methods: 405, even with the right credentials.
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		rec := serveHook(h, hookRequest(method, user, password, nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
			t.Errorf("%s: %d (Allow %q), want 405 allowing POST", method, rec.Code, rec.Header().Get("Allow"))
		}
	}

	// Redis is down: the hook is answered 503 (Xplenty may try again;
	// polling finds the change anyway).
	w.err = errors.New("redis: connection refused")
	if rec := serveHook(h, hookRequest(http.MethodPost, user, password, nil)); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("wake-up failed: %d, want 503", rec.Code)
	}

	fams := scrapeMetrics(t, h)
	wantMetric(t, fams, 4, "runjob_xplenty_hooks_total", "result", "ok")
	wantMetric(t, fams, 9, "runjob_xplenty_hooks_total", "result", "unauthorized")
	wantMetric(t, fams, 3, "runjob_xplenty_hooks_total", "result", "bad_method")
	wantMetric(t, fams, 1, "runjob_xplenty_hooks_total", "result", "failed")

	// Refusals are logged, once a minute, without any credentials.
	out := logs.String()
	if n := strings.Count(out, "refused an Xplenty web hook"); n != 1 {
		t.Errorf("%d log lines for 9 refusals, want 1:\n%s", n, out)
	}
	for _, s := range []string{password, "s3cret-Pa5", "guessed-user", "guessed-password", "XPLENTY-user", "Bearer"} {
		if strings.Contains(out, s) {
			t.Errorf("the log holds %q:\n%s", s, out)
		}
	}
}

func TestHookPathWithATrailingSlash(t *testing.T) {
	w := &wakeCounter{}
	h := Handler(NewMetrics(version), Readiness{}, &XplentyHook{User: "xplenty", Password: "s3cret-Pa55", Wake: w.wake})
	for path, want := range map[string]int{HookPath + "/": http.StatusNoContent, HookPath + "/x": http.StatusNotFound} {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
		r.SetBasicAuth("xplenty", "s3cret-Pa55")
		if rec := serveHook(h, r); rec.Code != want {
			t.Errorf("POST %s = %d, want %d", path, rec.Code, want)
		}
	}
	if w.count() != 1 {
		t.Errorf("%d wake-ups, want 1", w.count())
	}
	h = Handler(NewMetrics(version), Readiness{}, nil)
	if rec := serveHook(h, httptest.NewRequest(http.MethodPost, HookPath+"/", nil)); rec.Code != http.StatusNotFound {
		t.Errorf("without XPLENTY_HOOK_AUTH, POST %s/ = %d, want 404", HookPath, rec.Code)
	}
}
