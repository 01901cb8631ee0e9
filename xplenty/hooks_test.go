package xplenty_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// A hook decodes from either shape of its events (names in the list and get
// answers, objects in the create answer), reads a web hook's settings, and
// keeps neither the salt nor another type's settings.
func TestHookDecoding(t *testing.T) {
	const list = `[
	  {"id": 4, "salt": "9f1c0d", "active": true, "type": "web",
	   "settings": {"url": "https://bot.example.com/hooks/xplenty", "insecure_ssl": false, "basic_auth": true},
	   "events": ["job.completed", "cluster.error"]},
	  {"id": "5", "salt": "77aa", "active": "true", "type": "web",
	   "settings": {"url": "https://other.example.com/n", "basic_auth": false},
	   "events": [{"id": 9, "name": "job.failed", "last_response": {}, "last_trigger_status": "none", "last_trigger_time": null}, 7, {"id": 10}]},
	  {"id": 6, "salt": "1234", "active": false, "type": "slack",
	   "settings": {"url": "https://hooks.slack.example/T0/B0/XYZsecret", "channel": "#ops"}, "events": ["job"]}
	]`
	var hooks []xplenty.Hook
	if err := json.Unmarshal([]byte(list), &hooks); err != nil {
		t.Fatal(err)
	}
	want := []xplenty.Hook{
		{ID: 4, Type: "web", Active: true, Events: []string{"job.completed", "cluster.error"}, URL: "https://bot.example.com/hooks/xplenty", BasicAuth: true},
		{ID: 5, Type: "web", Active: true, Events: []string{"job.failed"}, URL: "https://other.example.com/n"},
		{ID: 6, Type: "slack", Events: []string{"job"}},
	}
	for i := range want {
		if fmt.Sprintf("%+v", hooks[i]) != fmt.Sprintf("%+v", want[i]) {
			t.Errorf("hook %d = %+v\nwant %+v", i, hooks[i], want[i])
		}
	}
	if s := fmt.Sprintf("%+v", hooks); strings.Contains(s, "9f1c0d") || strings.Contains(s, "XYZsecret") {
		t.Errorf("a salt or a Slack hook's URL was kept: %s", s)
	}
}

func TestWebHooksAgainstTheFake(t *testing.T) {
	ctx := context.Background()
	c, s := setup(t, xplentytest.Options{}, xplenty.Config{})
	req := xplenty.WebHookRequest{URL: "https://bot.example.com/hooks/xplenty", User: "xplenty", Password: "s3cret-Pa55", Events: xplenty.JobHookEvents}
	h, err := c.CreateWebHook(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if h.ID <= 0 || h.Type != "web" || !h.Active || !h.BasicAuth || h.URL != req.URL || !slices.Equal(h.Events, xplenty.JobHookEvents) {
		t.Errorf("created %+v", h)
	}
	// What went over the wire: JSON, as documented, the credentials in
	// basic_auth_data.
	r := s.Requests()[len(s.Requests())-1]
	var body struct {
		Type     string
		Active   bool
		Events   []string
		Settings map[string]any
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost ||
		!strings.HasSuffix(r.Path, "/acme/api/hooks") {
		t.Fatalf("request %s %s %s: %s (%v)", r.Method, r.Path, r.Header.Get("Content-Type"), r.Body, err)
	}
	if body.Type != "web" || !body.Active || body.Settings["basic_auth"] != true || body.Settings["url"] != req.URL ||
		body.Settings["basic_auth_data"] != base64.StdEncoding.EncodeToString([]byte("xplenty:s3cret-Pa55")) {
		t.Errorf("body %s", r.Body)
	}

	req.URL, req.User, req.Password, req.Events = "https://bot2.example.com/hooks/xplenty", "", "", []string{"job.failed"}
	if _, err = c.UpdateWebHook(ctx, h.ID, req); err != nil {
		t.Fatal(err)
	}
	hooks, err := c.ListHooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 || hooks[0].URL != req.URL || hooks[0].BasicAuth || !slices.Equal(hooks[0].Events, []string{"job.failed"}) {
		t.Errorf("after the update: %+v", hooks)
	}
	if _, err := c.UpdateWebHook(ctx, 99, req); !xplenty.IsNotFound(err) {
		t.Errorf("update of an unknown hook: %v, want a 404", err)
	}
}

// A request that could not be right is refused before it is sent, and no
// error or printout of one shows the password.
func TestWebHookRequestValidation(t *testing.T) {
	c, s := setup(t, xplentytest.Options{}, xplenty.Config{})
	const pass = "s3cret-Pa55"
	for _, r := range []xplenty.WebHookRequest{
		{URL: "bot.example.com/hooks", User: "u", Password: pass, Events: []string{"job"}},
		{URL: "https://u:" + pass + "@bot.example.com/hooks", Events: []string{"job"}},
		{URL: "https://bot.example.com/hooks", User: "u", Password: pass},
		{URL: "https://bot.example.com/hooks", User: "u:v", Password: pass, Events: []string{"job"}},
		{URL: "https://bot.example.com/hooks", Password: pass, Events: []string{"job"}},
		{URL: "https://bot.example.com/hooks", User: "u", Events: []string{"job"}},
	} {
		_, err := c.CreateWebHook(context.Background(), r)
		if err == nil {
			t.Errorf("%v accepted", r)
			continue
		}
		if strings.Contains(err.Error(), pass) {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if n := s.RequestCount(); n != 0 {
		t.Errorf("%d requests sent for invalid hooks", n)
	}
	r := xplenty.WebHookRequest{URL: "https://bot.example.com/hooks", User: "u", Password: pass, Events: []string{"job"}}
	if out := fmt.Sprintf("%v %+v %#v %s", r, r, r, r); strings.Contains(out, pass) {
		t.Errorf("printing a request shows its password: %s", out)
	}
}
