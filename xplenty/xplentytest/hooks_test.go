package xplentytest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// The hooks API answers in the documented shapes: create 201 with events
// as objects, list and get with events as names, settings without
// basic_auth_data, a salt.
func TestHooksAPIShapes(t *testing.T) {
	s := New(Options{Now: newClock().Now})
	defer s.Close()
	creds := base64.StdEncoding.EncodeToString([]byte("xplenty:s3cret"))
	body := `{"type":"web","active":true,"events":["job.completed","job.failed"],
		"settings":{"url":"https://bot.example.com/hooks/xplenty","insecure_ssl":false,"basic_auth":true,"basic_auth_data":"` + creds + `"}}`
	a := call(t, s, "POST", "hooks", "application/json", body, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	if got, want := keysOf(t, a.body), []string{"active", "events", "id", "salt", "settings", "type"}; !slices.Equal(got, want) {
		t.Errorf("hook members = %v, want %v", got, want)
	}
	var created struct {
		ID       int64
		Salt     string
		Settings map[string]any
		Events   []struct{ Name string }
	}
	if err := json.Unmarshal(a.body, &created); err != nil {
		t.Fatal(err)
	}
	if created.ID <= 0 || len(created.Salt) != 64 || len(created.Events) != 2 || created.Events[1].Name != "job.failed" ||
		created.Settings["basic_auth"] != true || created.Settings["url"] != "https://bot.example.com/hooks/xplenty" {
		t.Errorf("created = %s", a.body)
	}
	for _, a := range []answer{a, call(t, s, "GET", "hooks", "", "", nil), call(t, s, "GET", "hooks/1", "", "", nil)} {
		if strings.Contains(string(a.body), "basic_auth_data") || strings.Contains(string(a.body), creds) {
			t.Errorf("an answer holds the credentials: %s", a.body)
		}
	}
	list := call(t, s, "GET", "hooks", "", "", nil)
	var listed []struct{ Events []string }
	if err := json.Unmarshal(list.body, &listed); err != nil || len(listed) != 1 || !slices.Equal(listed[0].Events, []string{"job.completed", "job.failed"}) {
		t.Errorf("list = %s (%v)", list.body, err)
	}
	if user, pass, ok := s.HookCredentials(created.ID); !ok || user != "xplenty" || pass != "s3cret" {
		t.Errorf("kept credentials %q %q %v", user, pass, ok)
	}

	// Update replaces the settings and, when given, the events.
	a = call(t, s, "PUT", "hooks/1", "application/json", `{"settings":{"url":"https://new.example.com/h","basic_auth":false},"active":false}`, nil)
	if a.status != http.StatusOK {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	if h := s.Hooks()[0]; h.URL != "https://new.example.com/h" || h.BasicAuth || h.Active || len(h.Events) != 2 {
		t.Errorf("after update: %+v", h)
	}
	if a := call(t, s, "DELETE", "hooks/1", "", "", nil); a.status != http.StatusOK || len(s.Hooks()) != 0 {
		t.Errorf("delete: %d, %d hooks left", a.status, len(s.Hooks()))
	}
}

func TestHooksAPIRefusesWhatXplentyWould(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	for _, c := range []struct {
		ct, body string
		status   int
	}{
		{"application/x-www-form-urlencoded", "type=web", http.StatusUnsupportedMediaType},
		{"application/json", `{"type":"web"`, http.StatusBadRequest},
		{"application/json", `{"type":"carrier-pigeon","events":["job"],"settings":{}}`, 422},
		{"application/json", `{"type":"web","settings":{"url":"https://x.example/h"}}`, 422},
		{"application/json", `{"type":"web","events":[],"settings":{"url":"https://x.example/h"}}`, 422},
		{"application/json", `{"type":"web","events":["job.exploded"],"settings":{"url":"https://x.example/h"}}`, 422},
		{"application/json", `{"type":"web","events":["job"]}`, 422},
		{"application/json", `{"type":"web","events":["job"],"settings":{"url":"ftp://x.example/h"}}`, 422},
		{"application/json", `{"type":"web","events":["job"],"settings":{"url":"https://x.example/h","basic_auth":true,"basic_auth_data":"bm9jb2xvbg=="}}`, 422},
	} {
		if a := call(t, s, "POST", "hooks", c.ct, c.body, nil); a.status != c.status {
			t.Errorf("POST hooks %s %s: %d %s, want %d", c.ct, c.body, a.status, a.body, c.status)
		}
	}
	// The docs' curl example spells settings "setting": it is read too.
	if a := call(t, s, "POST", "hooks", "application/json", `{"type":"web","events":["job"],"setting":{"url":"https://x.example/h"}}`, nil); a.status != 201 {
		t.Errorf("setting: %d %s", a.status, a.body)
	}
	if len(s.Hooks()) != 1 {
		t.Errorf("%d hooks, want the one valid request's", len(s.Hooks()))
	}
	if a := call(t, s, "PUT", "hooks/99", "application/json", `{"settings":{"url":"https://x.example/h"}}`, nil); a.status != 404 {
		t.Errorf("PUT unknown hook: %d", a.status)
	}
}

// hookSink records the hooks it receives.
type hookSink struct {
	mu   sync.Mutex
	got  []string // "user:password event job_id"
	srv  *httptest.Server
	code int
}

func newHookSink(t *testing.T) *hookSink {
	k := &hookSink{code: http.StatusNoContent}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		var j xplenty.Job
		_ = json.NewDecoder(r.Body).Decode(&j)
		k.mu.Lock()
		k.got = append(k.got, user+":"+pass+" "+string(j.Status)+" "+r.Header.Get("Content-Type"))
		code := k.code
		k.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *hookSink) received() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.got)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // guards against hangs, not a timing assertion
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A change of status is POSTed, in order, to each active web hook that
// listens for its event, with the hook's credentials; others get nothing.
func TestHooksAreDeliveredWhenAJobChanges(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	all, failures, off := newHookSink(t), newHookSink(t), newHookSink(t)
	s.AddWebHook(all.srv.URL, "xplenty", "s3cret") // the job events
	s.AddWebHook(failures.srv.URL, "", "", "job.failed")
	offID := s.AddWebHook(off.srv.URL, "", "", "job")
	a := call(t, s, "PUT", "hooks/"+itoa(offID), "application/json", `{"active":false,"settings":{"url":"`+off.srv.URL+`"}}`, nil)
	if a.status != 200 {
		t.Fatalf("switch off: %d %s", a.status, a.body)
	}
	s.AddHook("slack", json.RawMessage(`{"url":"https://hooks.slack.example/T0/B0/secret"}`), "job")

	j1, _ := s.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434})
	j2, _ := s.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434})
	for _, st := range []xplenty.Status{xplenty.StatusPending, xplenty.StatusRunning, xplenty.StatusRunning, xplenty.StatusCompleted} {
		if err := s.SetStatus(j1.ID, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetStatus(j2.ID, xplenty.StatusFailed); err != nil {
		t.Fatal(err)
	}
	want := []string{"xplenty:s3cret idle application/json", "xplenty:s3cret idle application/json",
		"xplenty:s3cret running application/json", "xplenty:s3cret completed application/json", "xplenty:s3cret failed application/json"}
	// The fake records a delivery once its answer is back, after the
	// receiver saw it: wait for both.
	waitFor(t, "6 deliveries", func() bool {
		return len(all.received()) >= len(want) && len(failures.received()) >= 1 && len(s.HookDeliveries()) >= 6
	})
	if got := all.received(); !slices.Equal(got, want) {
		t.Errorf("job events hook got\n %q\nwant\n %q", got, want)
	}
	if got := failures.received(); !slices.Equal(got, []string{": failed application/json"}) {
		t.Errorf("job.failed hook got %q", got)
	}
	if got := off.received(); len(got) != 0 {
		t.Errorf("an inactive hook got %q", got)
	}
	var events []string
	for _, d := range s.HookDeliveries() {
		if d.Status != http.StatusNoContent {
			t.Errorf("delivery %+v", d)
		}
		events = append(events, d.Event)
	}
	if len(events) != 6 || events[0] != "job.submitted" || !slices.Contains(events, "job.started") || !slices.Contains(events, "job.failed") {
		t.Errorf("deliveries: %v", events)
	}
}

// With a Lifecycle, the jobs' changes are announced as they happen, not
// when the jobs are next read.
func TestHooksFollowTheLifecycle(t *testing.T) {
	s := New(Options{Lifecycle: &Lifecycle{Pending: 10 * time.Millisecond, Running: 10 * time.Millisecond, RunTime: 50 * time.Millisecond}})
	defer s.Close()
	k := newHookSink(t)
	s.AddWebHook(k.srv.URL, "u", "p")
	j, err := s.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the job's end announced", func() bool {
		got := k.received()
		return len(got) > 0 && strings.HasPrefix(got[len(got)-1], "u:p completed")
	})
	// Steps shorter than lifecyclePoll may be passed over, as a poll of
	// the list would; what is announced is in order, once each.
	got := k.received()
	want := []string{"u:p idle application/json", "u:p running application/json", "u:p completed application/json"}
	if got[0] != want[0] || len(got) > 3 || (len(got) == 3 && !slices.Equal(got, want)) {
		t.Errorf("job %d: hooks %q, want %q or without the middle one", j.ID, got, want)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
