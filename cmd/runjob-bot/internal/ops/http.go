package ops

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// Health and Readiness.

// Readiness is what /readyz checks; a nil check is skipped.
type Readiness struct {
	Slack func() bool                     // e.g. (*bot.SocketMode).Connected
	Redis func(ctx context.Context) error // e.g. (*store.Store).Ping
}

// Handler serves GET /healthz (the process is alive: always 200 "ok"),
// GET /readyz (200 "ready" when Slack is connected and Redis answers within
// a second, else 503 with one short reason a line), GET /metrics and, when
// hook is set, POST /hooks/xplenty (webhook.go); without it that path
// answers 404.
func Handler(m *Metrics, r Readiness, hook *XplentyHook) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, req *http.Request) {
		var why []string
		if r.Slack != nil && !r.Slack() {
			why = append(why, "slack: not connected")
		}
		if r.Redis != nil {
			ctx, cancel := context.WithTimeout(req.Context(), readyRedisTimeout)
			err := r.Redis(ctx)
			cancel()
			if err != nil {
				why = append(why, "redis: "+redisProblem(err))
			}
		}
		if len(why) > 0 {
			plain(w, http.StatusServiceUnavailable, strings.Join(why, "\n"))
			return
		}
		plain(w, http.StatusOK, "ready")
	})
	if m != nil {
		mux.Handle("GET /metrics", m.handler())
	}
	if hook != nil {
		recv := newHookReceiver(hook, m)
		mux.Handle(HookPath, recv)
		// The same with a trailing slash, which `hook install` takes for
		// the same URL (nothing below it).
		mux.Handle(HookPath+"/{$}", recv)
	}
	return mux
}

func plain(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body+"\n")
}
