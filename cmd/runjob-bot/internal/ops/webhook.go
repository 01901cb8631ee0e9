package ops

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"io"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// Receiving Xplenty's web hooks: POST /hooks/xplenty, HTTP Basic auth, and
// a wake-up of the watcher. The body is read (a bounded amount, so that the
// connection can be reused) and ignored: the payload of Xplenty's hooks is
// not documented, so nothing is trusted or required of it. A hook only
// says "something changed"; the watcher's poll finds out what.

// HookPath is where Xplenty's web hooks are received, on the ops endpoint.
const HookPath = "/hooks/xplenty"

const (
	// maxHookBody bounds what is read of a hook's body.
	maxHookBody = 64 << 10
	// hookWakeTimeout bounds the wake-up (a Redis PUBLISH) of one hook.
	hookWakeTimeout = 2 * time.Second
	// refusedLogEvery spaces the log lines about refused hooks: each is
	// counted, but someone guessing passwords must not flood the log.
	refusedLogEvery = time.Minute
)

// XplentyHook configures the receiver of Xplenty's web hooks
// (XPLENTY_HOOK_AUTH). User and Password are what a hook must send; Wake
// asks the watcher to poll now, wherever the leader runs (store.Wake).
type XplentyHook struct {
	User, Password string
	Wake           func(ctx context.Context) error
	Logger         *slog.Logger
}

// hookReceiver serves HookPath.
type hookReceiver struct {
	user, password [sha256.Size]byte // what is expected, hashed
	wake           func(ctx context.Context) error
	log            *slog.Logger
	count          func(result string)
	refusedLog     rate.Sometimes
}

func newHookReceiver(x *XplentyHook, m *Metrics) *hookReceiver {
	h := &hookReceiver{
		user: sha256.Sum256([]byte(x.User)), password: sha256.Sum256([]byte(x.Password)),
		wake: x.Wake, log: x.Logger, count: func(string) {},
		refusedLog: rate.Sometimes{First: 1, Interval: refusedLogEvery},
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if m != nil {
		h.count = m.webhooks.observe
	}
	return h
}

// authorized compares the credentials sent with those expected in
// constant time: both parts are always compared, as hashes, so that
// neither the time taken nor an early exit tells how much of a guess, or
// of which part, was right, nor how long the secret is.
func (h *hookReceiver) authorized(r *http.Request) bool {
	user, password, ok := r.BasicAuth()
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
	match := subtle.ConstantTimeCompare(u[:], h.user[:]) & subtle.ConstantTimeCompare(p[:], h.password[:])
	return ok && match == 1
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.count("bad_method")
		w.Header().Set("Allow", http.MethodPost)
		plain(w, http.StatusMethodNotAllowed, "method not allowed: Xplenty's web hooks POST")
		return
	}
	if !h.authorized(r) {
		h.count("unauthorized")
		// Neither the credentials sent nor the user name (it may be a
		// password typed in the wrong field) are logged.
		_, _, sent := r.BasicAuth()
		h.refusedLog.Do(func() {
			h.log.Warn("refused an Xplenty web hook: wrong or missing credentials (further refusals this minute are only counted)",
				"remote_addr", r.RemoteAddr, "credentials_sent", sent)
		})
		w.Header().Set("WWW-Authenticate", `Basic realm="runjob hooks", charset="UTF-8"`)
		plain(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxHookBody))
	ctx, cancel := context.WithTimeout(r.Context(), hookWakeTimeout)
	defer cancel()
	if err := h.wake(ctx); err != nil {
		h.count("failed")
		h.log.Warn("an Xplenty web hook could not wake the watcher; the next poll will see the change", "err", err)
		plain(w, http.StatusServiceUnavailable, "try again later")
		return
	}
	h.count("ok")
	w.WriteHeader(http.StatusNoContent)
}
