package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// spacedSecret holds runs of two spaces, which collapsing whitespace would
// change, so an exact-value scrub after it would miss it. Every piece of
// it that a cut could leave starts with its first word.
const spacedSecret = "Zq8vK  w7Xk  p2Lm"

// leaked reports where a text holding s (or the start of it) went: Slack
// calls and messages, logs, the audit trail.
func (e *e2e) leaked(s string) []string {
	var where []string
	for _, c := range e.slack.Calls("") {
		if strings.Contains(fmt.Sprint(c.Params), s) {
			where = append(where, "Slack call "+c.Method)
		}
	}
	for _, m := range e.slack.Messages() {
		if strings.Contains(m.Text+string(m.Blocks), s) {
			where = append(where, "Slack message "+m.TS)
		}
	}
	if strings.Contains(e.logs.String(), s) {
		where = append(where, "logs")
	}
	for _, a := range e.audit() {
		if strings.Contains(a.Variables+a.Detail, s) {
			where = append(where, "audit "+a.Action)
		}
	}
	return where
}

// Xplenty refuses a run and echoes the secret value: once past its
// 200-byte mark (where the client used to cut the message), once with its
// double spaces (which the client used to collapse). Neither reaches
// Slack, the log or the audit trail; the reason does, masked.
func TestE2ERefusalEchoingASecretNeverLeaks(t *testing.T) {
	for name, msg := range map[string]string{
		"across the cut": strings.Repeat("x", 190) + " invalid value " + spacedSecret + " for DB_PASSWORD",
		"double spaces":  "invalid value " + spacedSecret + " for DB_PASSWORD",
	} {
		t.Run(name, func(t *testing.T) {
			e := newE2E(t, xplentytest.Options{})
			e.startBot()
			e.xp.FailNext(1, http.StatusUnprocessableEntity, msg)
			e.command("U1", "C1", `cluster=52 package=434 DB_PASSWORD="`+spacedSecret+`"`)
			e.waitAudit("run", "refused")
			e.wait("the refused card", func(s *slacktest.Snapshot) bool {
				for _, m := range s.Messages() {
					if strings.Contains(m.Text, "refused") && strings.Contains(blocks(m), "invalid value "+render.Mask) {
						return true
					}
				}
				return false
			})
			if where := e.leaked("Zq8vK"); len(where) > 0 {
				t.Errorf("the secret (or a piece of it) reached %v", where)
			}
			if !strings.Contains(e.logs.String(), "invalid value "+render.Mask) {
				t.Errorf("the log does not carry the scrubbed reason:\n%s", e.logs.String())
			}
		})
	}
}

// refusingProxy stands in front of the fake Xplenty and answers the next
// run request (POST …/api/jobs) with status and a raw body, as a real
// server or a gateway may write it; everything else goes to the fake.
func refusingProxy(t *testing.T, xp *xplentytest.Server, status int, contentType, body string) (baseURL string) {
	t.Helper()
	var armed atomic.Bool
	armed.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/api/jobs") && armed.CompareAndSwap(true, false) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return
		}
		xp.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + strings.TrimPrefix(xp.URL(), strings.TrimSuffix(xp.URL(), "/xplenty/"))
}

// Xplenty refuses a run and echoes a secret holding characters that JSON,
// HTML and URLs escape (&, ": common in passwords) in escaped form: Rails'
// to_json writes & as \u0026 inside a validation object, an HTML error page
// writes &amp;, a gateway echoes the query string. No form of it reaches
// Slack, the log or the audit trail (checkNoSecrets looks in Redis too).
func TestE2EEscapedEchoOfASecretNeverLeaks(t *testing.T) {
	for name, c := range map[string]struct{ ctype, body string }{
		"rails json object": {"application/json", `{"errors":{"variables":["DB_PASSWORD value Zq8vK\u0026w7\"Xk9 is not allowed"]}}`},
		"html page":         {"text/html", `<html><body><p>DB_PASSWORD value Zq8vK&amp;w7&quot;Xk9 is not allowed</p></body></html>`},
		"url-encoded":       {"text/plain", `Bad request: /api/jobs?DB_PASSWORD=Zq8vK%26w7%22Xk9 is not allowed`},
	} {
		t.Run(name, func(t *testing.T) {
			e := newE2E(t, xplentytest.Options{})
			e.cfg.XplentyURL = refusingProxy(t, e.xp, http.StatusUnprocessableEntity, c.ctype, c.body)
			e.startBot()
			e.command("U1", "C1", `cluster=52 package=434 DB_PASSWORD="Zq8vK&w7\"Xk9"`)
			e.waitAudit("run", "refused")
			e.wait("the refused card", func(s *slacktest.Snapshot) bool {
				for _, m := range s.Messages() {
					if strings.Contains(m.Text, "refused") && strings.Contains(blocks(m), render.Mask+" is not allowed") {
						return true
					}
				}
				return false
			})
			// "Xk9" is a piece of the secret only.
			if where := e.leaked("Xk9"); len(where) > 0 {
				t.Errorf("the secret's escaped echo reached %v", where)
			}
		})
	}
}

// A refused stop's answer, audit entry and log line carry the scrubbed
// reason, never the text Xplenty sent.
func TestE2ERefusedStopNeverLogsTheSecret(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", `cluster=52 package=434 DB_PASSWORD="`+spacedSecret+`"`)
	e.waitCard(1001, "idle")
	// Every request fails from here on, the watcher's polls too, so the
	// stop request surely gets the refusal.
	e.xp.FailNext(1000, http.StatusUnprocessableEntity, "cannot stop: DB_PASSWORD="+spacedSecret+" is in use")
	e.command("U1", "C1", "stop 1001")
	e.waitEphemeral("U1", "did not stop job 1001")
	e.waitAudit("stop", "refused")
	if where := e.leaked("Zq8vK"); len(where) > 0 {
		t.Errorf("the secret (or a piece of it) reached %v", where)
	}
	if !strings.Contains(e.logs.String(), "DB_PASSWORD="+render.Mask) {
		t.Errorf("the log does not carry the scrubbed reason:\n%s", e.logs.String())
	}
}

// One secret rule: with SECRET_PATTERN='^$' and a policy listing DB_URL,
// exactly DB_URL is secret. The card, the audit trail and Redis agree:
// DB_URL masked (sealed in Redis), API_KEY shown, although its name looks
// secret to the default pattern.
func TestE2EOneSecretRuleEverywhere(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("secret_variables: [DB_URL]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.PolicyFile, e.cfg.SecretPattern = path, "^$"
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434 DB_URL="+secretValue+" API_KEY=visible-key-1")
	c := e.waitCard(1001, "idle")
	if b := blocks(c); !strings.Contains(b, "`DB_URL` = "+render.Mask) || !strings.Contains(b, "`API_KEY` = `visible-key-1`") {
		t.Errorf("card: want DB_URL masked and API_KEY shown:\n%s", b)
	}
	a := e.waitAudit("run", "started")
	if !strings.Contains(a.Variables, "DB_URL="+render.Mask) || !strings.Contains(a.Variables, "API_KEY=visible-key-1") {
		t.Errorf("audit: want DB_URL masked and API_KEY shown: %q", a.Variables)
	}
	raw, err := e.rdb.HGet(context.Background(), e.cfg.RedisPrefix+"job:1001", "spec").Result()
	if err != nil {
		t.Fatal(err)
	}
	var sp struct {
		Variables       map[string]string `json:"variables"`
		SealedVariables map[string]string `json:"sealed_variables"`
		SecretNames     []string          `json:"secret_names"`
	}
	if err := json.Unmarshal([]byte(raw), &sp); err != nil {
		t.Fatal(err)
	}
	if sp.Variables["API_KEY"] != "visible-key-1" || !strings.HasPrefix(sp.SealedVariables["DB_URL"], "sealed:v2:") ||
		len(sp.SealedVariables) != 1 || !slices.Equal(sp.SecretNames, []string{"DB_URL"}) {
		t.Errorf("Redis: want DB_URL alone sealed and listed secret, API_KEY plain: %s", raw)
	}
}
