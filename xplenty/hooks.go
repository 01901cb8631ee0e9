package xplenty

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The account's service hooks (GET, POST hooks; PUT hooks/{id}): what
// `runjob-bot hook install` and `hook status` use to point a web hook at the
// bot. Only web hooks are read in full: the settings of the other types
// (a Slack hook's URL is itself a secret) never leave this package.

// Route templates of the hooks calls, reported to Config.OnResponse.
const (
	routeHooks = "/hooks"
	routeHook  = "/hooks/{id}"
)

// HookTypeWeb is the type of a web hook: an HTTP POST to a URL.
const HookTypeWeb = "web"

// JobHookEvents are the events of a job a web hook can be sent on, as the
// hooks API names them ("job" alone means all of them, future ones too).
var JobHookEvents = []string{"job.submitted", "job.started", "job.stopped", "job.completed", "job.failed"}

// maxHookPages bounds the pages ListHooks reads; an account has a handful
// of hooks.
const maxHookPages = 10

// Hook is one service hook of the account. URL, BasicAuth and InsecureSSL
// are read for web hooks only; other types leave them empty. A hook's salt
// (its signing secret) and basic_auth_data are never read.
type Hook struct {
	ID     int64
	Type   string // "web", "email", "slack", "hipchat", "pagerduty"
	Active bool
	// Events are the names of the events it is sent on, e.g. "job.failed".
	Events []string
	// URL is where a web hook posts; BasicAuth whether it sends
	// credentials; InsecureSSL whether it skips checking the certificate.
	URL         string
	BasicAuth   bool
	InsecureSSL bool
}

// UnmarshalJSON decodes a hook as the API writes it. Its events come as
// names (["job.failed"]) or as objects ([{"id":2,"name":"job.failed",…}]),
// depending on the call; both are read. Only a hook whose id cannot be
// read fails.
func (h *Hook) UnmarshalJSON(b []byte) error {
	m, err := objectMembers(b, "hook")
	if err != nil {
		return err
	}
	id, err := m.id("hook")
	if err != nil {
		return err
	}
	*h = Hook{ID: id, Type: m.text("type"), Active: m.bool("active"), Events: hookEvents(m["events"])}
	if h.Type == HookTypeWeb {
		if s, err := objectMembers(m["settings"], "hook settings"); err == nil {
			h.URL, h.BasicAuth, h.InsecureSSL = s.text("url"), s.bool("basic_auth"), s.bool("insecure_ssl")
		}
	}
	return nil
}

// hookEvents reads a hook's events, names or objects with a name; what is
// neither is skipped.
func hookEvents(raw json.RawMessage) []string {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var names []string
	for _, it := range items {
		var name string
		if json.Unmarshal(it, &name) != nil {
			if m, err := objectMembers(it, "hook event"); err == nil {
				name = m.text("name")
			}
		}
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func decodeHook(b []byte) (Hook, error) {
	var h Hook
	if err := json.Unmarshal(b, &h); err != nil {
		return Hook{}, err
	}
	if h.ID <= 0 {
		return Hook{}, errors.New("hook: no id")
	}
	return h, nil
}

// WebHookRequest is a web hook to create or update: POST to URL on Events,
// with HTTP Basic credentials User:Password when User is set. It prints
// without the password.
type WebHookRequest struct {
	URL            string
	User, Password string
	Events         []string
	// Inactive creates or leaves the hook switched off.
	Inactive bool
}

// String describes the request without its password.
func (r WebHookRequest) String() string {
	auth := "none"
	if r.User != "" {
		auth = r.User + ":••••"
	}
	return fmt.Sprintf("xplenty.WebHookRequest{URL: %q, BasicAuth: %s, Events: %q, Inactive: %v}", r.URL, auth, r.Events, r.Inactive)
}

// GoString is String, so that %#v does not print the password either.
func (r WebHookRequest) GoString() string { return r.String() }

// Validate checks the request before it is sent: an absolute http(s) URL
// without credentials in it, at least one event, and a user name without a
// colon that comes with a password. Its errors never hold the password.
func (r WebHookRequest) Validate() error {
	var problems []string
	u, err := url.Parse(r.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		problems = append(problems, "url must be an absolute http(s) URL")
	case u.User != nil:
		problems = append(problems, "url must not hold credentials (give the user and password instead)")
	}
	if len(r.Events) == 0 {
		problems = append(problems, "at least one event is needed")
	}
	switch {
	case r.User == "" && r.Password != "":
		problems = append(problems, "a password needs a user name")
	case r.User != "" && r.Password == "":
		problems = append(problems, "a user name needs a password")
	case strings.Contains(r.User, ":"):
		problems = append(problems, "the user name must not contain a colon")
	}
	if len(problems) > 0 {
		return fmt.Errorf("xplenty: web hook: %s", strings.Join(problems, "; "))
	}
	return nil
}

// body is the request's JSON, as the hooks API documents it: the
// credentials go in settings.basic_auth_data, base64 of user:password.
func (r WebHookRequest) body(withType bool) ([]byte, error) {
	settings := map[string]any{"url": r.URL, "insecure_ssl": false, "basic_auth": r.User != ""}
	if r.User != "" {
		settings["basic_auth_data"] = base64.StdEncoding.EncodeToString([]byte(r.User + ":" + r.Password))
	}
	b := map[string]any{"active": !r.Inactive, "events": r.Events, "settings": settings}
	if withType {
		b["type"] = HookTypeWeb
	}
	return json.Marshal(b)
}

// ListHooks returns the account's hooks, of every type, following the
// next links of the answer (at most 10 pages).
func (c *Client) ListHooks(ctx context.Context) ([]Hook, error) {
	u, err := c.endpoint("hooks")
	if err != nil {
		return nil, err
	}
	first, err := getPage(ctx, c, u, routeHooks, decodeHook)
	if err != nil {
		return nil, err
	}
	next := func(p *Page[Hook]) (*Page[Hook], error) { return nextPage(ctx, c, p, routeHooks, decodeHook) }
	hooks, _, err := allPages(first, maxHookPages, next, func(h Hook) int64 { return h.ID })
	return hooks, err
}

// CreateWebHook adds a web hook (POST hooks) and returns it as Xplenty
// recorded it. Like every POST it is not repeated once it may have reached
// the server: on an unknown outcome (IsOutcomeUnknown) list the hooks
// before trying again.
func (c *Client) CreateWebHook(ctx context.Context, req WebHookRequest) (*Hook, error) {
	return c.writeHook(ctx, http.MethodPost, 0, req)
}

// UpdateWebHook replaces the settings and events of web hook id (PUT
// hooks/{id}) and returns it. An unknown id fails with IsNotFound.
func (c *Client) UpdateWebHook(ctx context.Context, id int64, req WebHookRequest) (*Hook, error) {
	if id <= 0 {
		return nil, fmt.Errorf("xplenty: hook id must be a positive number, got %d", id)
	}
	return c.writeHook(ctx, http.MethodPut, id, req)
}

func (c *Client) writeHook(ctx context.Context, method string, id int64, req WebHookRequest) (*Hook, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	path, route := "hooks", routeHooks
	if id > 0 {
		path, route = "hooks/"+strconv.FormatInt(id, 10), routeHook
	}
	u, err := c.endpoint(path)
	if err != nil {
		return nil, err
	}
	body, err := req.body(method == http.MethodPost)
	if err != nil {
		return nil, fmt.Errorf("xplenty: web hook: %w", err)
	}
	var h Hook
	check := func() error {
		if h.ID <= 0 {
			return errors.New("answer has no hook id")
		}
		return nil
	}
	if _, err := c.do(ctx, &call{method: method, route: route, u: u, json: body, out: &h, check: check}); err != nil {
		return nil, err
	}
	return &h, nil
}
