package xplentytest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// The hooks API (GET and POST hooks; GET, PUT and DELETE hooks/{id}) in the
// shapes the v2 documentation shows, and the hooks themselves: an active
// web hook is POSTed to (hooks_deliver.go) when a job it listens for
// changes.

// hookTypes are the hook types the API knows; only web hooks are delivered.
var hookTypes = []string{"web", "email", "slack", "hipchat", "pagerduty"}

// hookEventNames are the events a hook may name (list-hook-events).
var hookEventNames = []string{"job", "job.submitted", "job.started", "job.stopped", "job.completed", "job.failed",
	"cluster", "cluster.requested", "cluster.available", "cluster.terminated", "cluster.idled", "cluster.error"}

// fakeHook is a hook as the server keeps it.
type fakeHook struct {
	id       int64
	typ      string
	active   bool
	events   []string
	salt     string
	url      string          // web hooks
	insecure bool            // web hooks: insecure_ssl
	user     string          // web hooks with basic auth
	password string          // web hooks with basic auth
	settings json.RawMessage // other types, as sent
}

// hookState is the server's hooks and their deliveries, under Server.mu.
type hookState struct {
	byID    map[int64]*fakeHook
	order   []*fakeHook
	nextID  int64
	pending []pendingDelivery
	done    []HookDelivery
	wake    chan struct{} // cap 1: the deliverer has work
	running bool          // the deliverer goroutine is started
}

// wireHook is a hook as the API writes it. Events are names, except in
// the create answer, which writes them as objects (as the docs show).
type wireHook struct {
	ID       int64           `json:"id"`
	Salt     string          `json:"salt"`
	Active   bool            `json:"active"`
	Type     string          `json:"type"`
	Settings json.RawMessage `json:"settings"`
	Events   any             `json:"events"`
}

type wireHookEvent struct {
	ID                int64          `json:"id"`
	Name              string         `json:"name"`
	LastResponse      map[string]any `json:"last_response"`
	LastTriggerStatus string         `json:"last_trigger_status"`
	LastTriggerTime   *time.Time     `json:"last_trigger_time"`
}

func (h *fakeHook) wire(eventObjects bool) wireHook {
	w := wireHook{ID: h.id, Salt: h.salt, Active: h.active, Type: h.typ, Settings: h.settings, Events: slices.Clone(h.events)}
	if h.typ == xplenty.HookTypeWeb {
		// basic_auth_data is write-only: never in an answer.
		w.Settings, _ = json.Marshal(map[string]any{"url": h.url, "insecure_ssl": h.insecure, "basic_auth": h.user != ""})
	}
	if eventObjects {
		evs := make([]wireHookEvent, len(h.events))
		for i, e := range h.events {
			evs[i] = wireHookEvent{ID: h.id*100 + int64(i), Name: e, LastResponse: map[string]any{}, LastTriggerStatus: "none"}
		}
		w.Events = evs
	}
	return w
}

func (h *fakeHook) hook() xplenty.Hook {
	out := xplenty.Hook{ID: h.id, Type: h.typ, Active: h.active, Events: slices.Clone(h.events)}
	if h.typ == xplenty.HookTypeWeb {
		out.URL, out.BasicAuth, out.InsecureSSL = h.url, h.user != "", h.insecure
	}
	return out
}

// listensTo reports whether the hook is sent on event ("job.failed"
// matches "job.failed" and "job").
func (h *fakeHook) listensTo(event string) bool {
	group, _, _ := strings.Cut(event, ".")
	return h.active && h.typ == xplenty.HookTypeWeb && (slices.Contains(h.events, event) || slices.Contains(h.events, group))
}

// routeHooks serves the paths under hooks; segs[0] is "hooks".
func (s *Server) routeHooks(r *http.Request, segs []string, body []byte) *response {
	if len(segs) == 1 {
		switch r.Method {
		case http.MethodGet:
			out := make([]wireHook, 0, len(s.hooks.order))
			for _, h := range s.hooks.order {
				out = append(out, h.wire(false))
			}
			return &response{status: http.StatusOK, body: out}
		case http.MethodPost:
			return s.createHook(r, body)
		}
		return errorAnswer(http.StatusMethodNotAllowed, "Method not allowed")
	}
	id, err := strconv.ParseInt(segs[1], 10, 64)
	h := s.hooks.byID[id]
	if len(segs) > 2 || err != nil || h == nil {
		return errorAnswer(http.StatusNotFound, "Item not found.")
	}
	switch r.Method {
	case http.MethodGet:
		return &response{status: http.StatusOK, body: h.wire(false)}
	case http.MethodPut:
		return s.updateHook(h, r, body)
	case http.MethodDelete:
		s.hooks.order = slices.DeleteFunc(s.hooks.order, func(o *fakeHook) bool { return o == h })
		delete(s.hooks.byID, id)
		return &response{status: http.StatusOK, body: h.wire(false)}
	}
	return errorAnswer(http.StatusMethodNotAllowed, "Method not allowed")
}

// hookBody is a create or update request. The docs' curl example spells
// settings "setting": both are read.
type hookBody struct {
	Type     *string         `json:"type"`
	Active   *bool           `json:"active"`
	Events   *[]string       `json:"events"`
	Settings json.RawMessage `json:"settings"`
	Setting  json.RawMessage `json:"setting"`
}

type webSettings struct {
	URL           string `json:"url"`
	InsecureSSL   bool   `json:"insecure_ssl"`
	BasicAuth     bool   `json:"basic_auth"`
	BasicAuthData string `json:"basic_auth_data"`
}

func parseHookBody(r *http.Request, body []byte) (hookBody, *response) {
	var b hookBody
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return b, errorAnswer(http.StatusUnsupportedMediaType, "Unsupported media type: send JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&b); err != nil {
		return b, errorAnswer(http.StatusBadRequest, "Malformed JSON body")
	}
	if b.Settings == nil {
		b.Settings = b.Setting
	}
	if b.Events != nil {
		if len(*b.Events) == 0 {
			return b, errorAnswer(http.StatusUnprocessableEntity, "Validation failed: events can't be blank")
		}
		for _, e := range *b.Events {
			if !slices.Contains(hookEventNames, e) {
				return b, errorAnswer(http.StatusUnprocessableEntity, "Validation failed: unknown event %q", e)
			}
		}
	}
	return b, nil
}

// applySettings checks settings for a hook of type typ and sets them.
func (h *fakeHook) applySettings(raw json.RawMessage) *response {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.TrimSpace(raw)[0] != '{' {
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: settings can't be blank")
	}
	if h.typ != xplenty.HookTypeWeb {
		h.settings = slices.Clone(raw)
		return nil
	}
	var ws webSettings
	if err := json.Unmarshal(raw, &ws); err != nil {
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: settings are not valid")
	}
	u, err := url.Parse(ws.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: url is not a valid URL")
	}
	user, password := "", ""
	if ws.BasicAuth {
		data, err := base64.StdEncoding.DecodeString(ws.BasicAuthData)
		var ok bool
		if user, password, ok = strings.Cut(string(data), ":"); err != nil || !ok || user == "" {
			return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: basic_auth_data must be user:password in base64")
		}
	}
	h.url, h.insecure, h.user, h.password = ws.URL, ws.InsecureSSL, user, password
	return nil
}

func (s *Server) createHook(r *http.Request, body []byte) *response {
	b, res := parseHookBody(r, body)
	if res != nil {
		return res
	}
	switch {
	case b.Type == nil || !slices.Contains(hookTypes, *b.Type):
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: type must be one of %s", strings.Join(hookTypes, ", "))
	case b.Events == nil:
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: events can't be blank")
	}
	h := &fakeHook{typ: *b.Type, active: b.Active == nil || *b.Active, events: slices.Clone(*b.Events)}
	if res := h.applySettings(b.Settings); res != nil {
		return res
	}
	s.addHook(h)
	return &response{status: http.StatusCreated, body: h.wire(true)}
}

func (s *Server) updateHook(h *fakeHook, r *http.Request, body []byte) *response {
	b, res := parseHookBody(r, body)
	if res != nil {
		return res
	}
	if b.Type != nil && *b.Type != h.typ {
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: the type of a hook cannot change")
	}
	next := *h
	if res := next.applySettings(b.Settings); res != nil {
		return res
	}
	if b.Events != nil {
		next.events = slices.Clone(*b.Events)
	}
	if b.Active != nil {
		next.active = *b.Active
	}
	*h = next
	return &response{status: http.StatusOK, body: h.wire(false)}
}

// addHook numbers h, gives it a salt and keeps it.
func (s *Server) addHook(h *fakeHook) {
	if s.hooks.byID == nil {
		s.hooks.byID = make(map[int64]*fakeHook)
		s.hooks.nextID = 1
	}
	h.id = s.hooks.nextID
	s.hooks.nextID++
	salt := make([]byte, 32)
	_, _ = rand.Read(salt)
	h.salt = hex.EncodeToString(salt)
	s.hooks.byID[h.id] = h
	s.hooks.order = append(s.hooks.order, h)
	s.startDeliverer()
}

// AddWebHook adds an active web hook to url on events (the job events when
// none are given), sending user:password with HTTP Basic when user is set,
// without an HTTP call (no budget spent, nothing recorded). It returns the
// hook's id.
func (s *Server) AddWebHook(url, user, password string, events ...string) int64 {
	if len(events) == 0 {
		events = slices.Clone(xplenty.JobHookEvents)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &fakeHook{typ: xplenty.HookTypeWeb, active: true, events: events, url: url, user: user, password: password}
	s.addHook(h)
	return h.id
}

// AddHook adds a hook of another type than web (it is listed, never
// delivered), with settings as its type's JSON, e.g.
// {"url": "https://hooks.slack.com/services/…"} for "slack".
func (s *Server) AddHook(typ string, settings json.RawMessage, events ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &fakeHook{typ: typ, active: true, events: events, settings: slices.Clone(settings)}
	s.addHook(h)
	return h.id
}

// Hooks returns the account's hooks, oldest first.
func (s *Server) Hooks() []xplenty.Hook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]xplenty.Hook, len(s.hooks.order))
	for i, h := range s.hooks.order {
		out[i] = h.hook()
	}
	return out
}

// HookCredentials returns the user and password web hook id sends; ok is
// false for an unknown hook.
func (s *Server) HookCredentials(id int64) (user, password string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hooks.byID[id]
	if h == nil {
		return "", "", false
	}
	return h.user, h.password, true
}
