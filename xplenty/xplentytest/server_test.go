package xplentytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) message() string {
	var m struct{ Message string }
	json.Unmarshal(a.body, &m)
	return m.Message
}

func (a answer) job(t *testing.T) xplenty.Job {
	t.Helper()
	var j xplenty.Job
	if err := json.Unmarshal(a.body, &j); err != nil {
		t.Fatalf("decode job from %s: %v", a.body, err)
	}
	return j
}

func (a answer) jobs(t *testing.T) []xplenty.Job {
	t.Helper()
	var js []xplenty.Job
	if err := json.Unmarshal(a.body, &js); err != nil {
		t.Fatalf("decode jobs from %s: %v", a.body, err)
	}
	return js
}

// call sends a request the way the real client does, unless edit changes it.
func call(t *testing.T, s *Server, method, path, contentType, body string, edit func(*http.Request)) answer {
	t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = s.URL() + s.AccountID() + "/api/" + path
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(s.APIKey(), "")
	req.Header.Set("Accept", "application/vnd.xplenty+json; version=2")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

const form = "application/x-www-form-urlencoded"

func runForm(t *testing.T, s *Server, pkg int64) xplenty.Job {
	t.Helper()
	a := call(t, s, "POST", "jobs", form, fmt.Sprintf("job[cluster_id]=52&job[package_id]=%d", pkg), nil)
	if a.status != http.StatusCreated {
		t.Fatalf("run: %d %s", a.status, a.body)
	}
	return a.job(t)
}

func TestAuthAndMediaType(t *testing.T) {
	s := New(Options{BasePath: "/xplenty/"})
	defer s.Close()
	s.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: 2})
	tests := []struct {
		name       string
		edit       func(*http.Request)
		wantStatus int
	}{
		{"ok", nil, 200},
		{"no auth", func(r *http.Request) { r.Header.Del("Authorization") }, 401},
		{"wrong key", func(r *http.Request) { r.SetBasicAuth("other-key", "") }, 401},
		{"key as password", func(r *http.Request) { r.SetBasicAuth("", s.APIKey()) }, 401},
		{"key with a password", func(r *http.Request) { r.SetBasicAuth(s.APIKey(), "x") }, 401},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+s.APIKey()) }, 401},
		{"no Accept", func(r *http.Request) { r.Header.Del("Accept") }, 406},
		{"plain JSON", func(r *http.Request) { r.Header.Set("Accept", "application/json") }, 406},
		{"no version", func(r *http.Request) { r.Header.Set("Accept", "application/vnd.xplenty+json") }, 200},
		{"in a list", func(r *http.Request) { r.Header.Set("Accept", "text/html, application/vnd.xplenty+json; version=2") }, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, "GET", "jobs/1001", "", "", tt.edit)
			if a.status != tt.wantStatus {
				t.Errorf("status = %d, want %d (%s)", a.status, tt.wantStatus, a.body)
			}
			if tt.wantStatus != 200 && a.message() == "" {
				t.Errorf("error answer %s has no message", a.body)
			}
			if strings.Contains(string(a.body), s.APIKey()) {
				t.Errorf("answer %s holds the API key", a.body)
			}
			if a.header.Get("X-RateLimit-Limit") != "5000" || a.header.Get("X-RateLimit-Remaining") == "" {
				t.Errorf("rate-limit headers missing: %v", a.header)
			}
		})
	}
}

func TestRunRequestEncodings(t *testing.T) {
	s := New(Options{FirstJobID: 500, MissingPackages: []int64{999}, MissingClusters: []int64{7}})
	defer s.Close()
	tests := []struct {
		name, contentType, path, body string
		wantStatus                    int
		wantMessage                   string
		wantVars                      map[string]string
		wantDyn                       map[string]string
	}{
		{name: "form", contentType: form, path: "jobs",
			body:       "job%5Bcluster_id%5D=52&job%5Bpackage_id%5D=434&job%5Bvariables%5D%5BDATE%5D=2026-11-01&job%5Bdynamic_variables%5D%5BNOW%5D=CurrentTime()",
			wantStatus: 201, wantVars: map[string]string{"DATE": "2026-11-01"}, wantDyn: map[string]string{"NOW": "CurrentTime()"}},
		{name: "query string", path: "jobs?job[cluster_id]=52&job[package_id]=434&job[variables][A]=1",
			wantStatus: 201, wantVars: map[string]string{"A": "1"}},
		{name: "form without job[] wrapper", contentType: form, path: "jobs", body: "cluster_id=52&package_id=434&variables[B]=x",
			wantStatus: 201, wantVars: map[string]string{"B": "x"}},
		{name: "top-level JSON", contentType: "application/json", path: "jobs",
			body:       `{"cluster_id": 52, "package_id": "434", "variables": {"N": 42, "S": "s", "F": 1.5}, "dynamic_variables": {"D": "CurrentTime()"}}`,
			wantStatus: 201, wantVars: map[string]string{"N": "42", "S": "s", "F": "1.5"}, wantDyn: map[string]string{"D": "CurrentTime()"}},
		{name: "wrapped JSON", contentType: "application/json; charset=utf-8", path: "jobs",
			body: `{"job": {"cluster_id": 52, "package_id": 434}}`, wantStatus: 201, wantVars: map[string]string{}},
		{name: "bracket in a name", contentType: form, path: "jobs",
			body: "job[cluster_id]=52&job[package_id]=434&job[variables][x][cluster_id]=9", wantStatus: 400, wantMessage: "Malformed parameter"},
		{name: "cluster twice", contentType: form, path: "jobs", body: "job[cluster_id]=52&job[cluster_id]=9&job[package_id]=434",
			wantStatus: 400, wantMessage: "given 2 times"},
		{name: "no package", contentType: form, path: "jobs", body: "job[cluster_id]=52", wantStatus: 422, wantMessage: "package_id can't be blank"},
		{name: "package not a number", contentType: "application/json", path: "jobs", body: `{"cluster_id": 52, "package_id": "x"}`,
			wantStatus: 422, wantMessage: "package_id must be a positive integer"},
		{name: "missing package", contentType: form, path: "jobs", body: "job[cluster_id]=52&job[package_id]=999", wantStatus: 422,
			wantMessage: "Package 999 not found"},
		{name: "missing cluster", contentType: form, path: "jobs", body: "job[cluster_id]=7&job[package_id]=1", wantStatus: 422,
			wantMessage: "Cluster 7 not found"},
		{name: "bad JSON", contentType: "application/json", path: "jobs", body: `{"cluster_id": `, wantStatus: 400},
		{name: "XML", contentType: "application/xml", path: "jobs", body: `<job/>`, wantStatus: 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, "POST", tt.path, tt.contentType, tt.body, nil)
			if a.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", a.status, tt.wantStatus, a.body)
			}
			if tt.wantStatus != 201 {
				if !strings.Contains(a.message(), tt.wantMessage) {
					t.Errorf("message = %q, want one containing %q", a.message(), tt.wantMessage)
				}
				return
			}
			j := a.job(t)
			if j.ClusterID != 52 || j.PackageID != 434 || fmt.Sprint(j.Variables) != fmt.Sprint(tt.wantVars) ||
				fmt.Sprint(j.DynamicVariables) != fmt.Sprint(tt.wantDyn) {
				t.Errorf("job = cluster %d package %d vars %v dyn %v; want vars %v dyn %v",
					j.ClusterID, j.PackageID, j.Variables, j.DynamicVariables, tt.wantVars, tt.wantDyn)
			}
		})
	}
	// Only the five accepted runs made jobs, numbered from FirstJobID.
	jobs := s.Jobs()
	if len(jobs) != 5 || jobs[0].ID != 500 || jobs[4].ID != 504 {
		t.Errorf("jobs = %d, first %d", len(jobs), jobs[0].ID)
	}
}

func TestKnownPackages(t *testing.T) {
	s := New(Options{KnownPackages: []int64{1, 2}})
	defer s.Close()
	if _, err := s.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: 2}); err != nil {
		t.Errorf("known package: %v", err)
	}
	a := call(t, s, "POST", "jobs", form, "job[cluster_id]=1&job[package_id]=3", nil)
	if a.status != 422 || a.message() != "Package 3 not found" {
		t.Errorf("unknown package: %d %s", a.status, a.body)
	}
}

func TestRunAnswer(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now, BasePath: "/x/"})
	defer s.Close()
	a := call(t, s, "POST", "jobs", form, "job[cluster_id]=52&job[package_id]=434", nil)
	if a.status != 201 {
		t.Fatalf("status %d", a.status)
	}
	// The wire format: null timestamps, a creator, v2 outputs list.
	var raw map[string]any
	json.Unmarshal(a.body, &raw)
	for _, key := range []string{"started_at", "failed_at", "completed_at"} {
		if v, ok := raw[key]; !ok || v != nil {
			t.Errorf("%s = %v, %v; want null", key, v, ok)
		}
	}
	j := a.job(t)
	base := s.URL() + "acme"
	want := xplenty.Job{
		ID: 1001, Status: xplenty.StatusIdle, Variables: map[string]string{}, OwnerID: creatorID,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, ClusterID: 52, PackageID: 434,
		URL: base + "/api/jobs/1001", HTMLURL: base + "/jobs/1001", LogURL: base + "/api/jobs/1001/log",
		Creator: j.Creator, Attempts: 1,
	}
	if fmt.Sprint(j) != fmt.Sprint(want) {
		t.Errorf("job = %+v\nwant  %+v", j, want)
	}
	if !j.CreatedAt.Equal(clk.Now()) || !j.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("created %v updated %v, want %v", j.CreatedAt, j.UpdatedAt, clk.Now())
	}
	if j.Creator == nil || j.Creator.ID != creatorID || j.Creator.DisplayName == "" || j.Creator.Type != "User" {
		t.Errorf("creator = %+v", j.Creator)
	}
	if next := runForm(t, s, 1); next.ID != 1002 {
		t.Errorf("second job id = %d, want 1002", next.ID)
	}
}

func TestGetLogAndNotFound(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	j := runForm(t, s, 434)
	if a := call(t, s, "GET", "jobs/1001", "", "", nil); a.status != 200 || a.job(t).ID != j.ID {
		t.Errorf("get: %d %s", a.status, a.body)
	}
	for _, path := range []string{"jobs/1", "jobs/abc", "jobs/1001/outputs", "schedules", s.URL() + "other/api/jobs/1001"} {
		a := call(t, s, "GET", path, "", "", nil)
		if a.status != 404 || a.message() != "Item not found." {
			t.Errorf("GET %s: %d %s, want 404 Item not found.", path, a.status, a.body)
		}
	}
	a := call(t, s, "GET", "jobs/1001/log", "", "", nil)
	var log struct{ Body, URL string }
	json.Unmarshal(a.body, &log)
	if a.status != 200 || !strings.Contains(log.Body, "Job 1001 submitted") || log.URL == "" {
		t.Errorf("log: %d %s", a.status, a.body)
	}
	if a := call(t, s, "PUT", "jobs/1001", "", "", nil); a.status != 405 {
		t.Errorf("PUT: %d, want 405", a.status)
	}
}

func TestListFiltersAndPaging(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now, BasePath: "/xplenty/v2/"})
	defer s.Close()
	for i := range 25 {
		pkg := int64(1 + i%2)
		if _, err := s.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: pkg}); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
	}
	// Jobs 1001..1025; job 1003 changes last, 1010 before it.
	s.SetStatus(1010, xplenty.StatusRunning)
	clk.Add(time.Minute)
	changed := clk.Now()
	s.SetStatus(1003, xplenty.StatusCompleted)

	ids := func(js []xplenty.Job) string {
		var out []string
		for _, j := range js {
			out = append(out, fmt.Sprint(j.ID))
		}
		return strings.Join(out, ",")
	}

	a := call(t, s, "GET", "jobs", "", "", nil)
	page := a.jobs(t)
	if len(page) != 20 || page[0].ID != 1025 || page[19].ID != 1006 {
		t.Errorf("first page: %s", ids(page))
	}
	link := a.header.Get("Link")
	wantNext := s.URL() + "acme/api/jobs?offset=20"
	if link != "<"+wantNext+`>; rel="next"` {
		t.Errorf("Link = %q, want next %q", link, wantNext)
	}
	a = call(t, s, "GET", wantNext, "", "", nil)
	if got := ids(a.jobs(t)); got != "1005,1004,1003,1002,1001" || a.header.Get("Link") != "" {
		t.Errorf("second page: %s, Link %q", got, a.header.Get("Link"))
	}
	// List answers embed the cluster and the package.
	if !strings.Contains(string(a.body), `"package":{"id":`) {
		t.Errorf("no embedded package in %s", a.body[:200])
	}

	tests := []struct {
		query, want string
	}{
		{"status=running", "1010"},
		{"status=all&limit=3&direction=asc", "1001,1002,1003"},
		{"package_id=2&limit=3", "1024,1022,1020"},
		{"sort=updated&direction=asc&since=" + url.QueryEscape(changed.Add(-time.Minute).Format(time.RFC3339)), "1010,1003"},
		{"sort=updated&since=" + url.QueryEscape(changed.Format(time.RFC3339)), "1003"},
		{"since=" + url.QueryEscape(changed.In(time.FixedZone("", 3*3600)).Format(time.RFC3339)), "1003"},
		{"since=" + changed.Add(time.Second).Format(time.RFC3339), ""},
		{"offset=24&limit=5", "1001"},
		{"offset=30", ""},
	}
	for _, tt := range tests {
		a := call(t, s, "GET", "jobs?"+tt.query, "", "", nil)
		if a.status != 200 {
			t.Errorf("%s: %d %s", tt.query, a.status, a.body)
			continue
		}
		if got := ids(a.jobs(t)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.query, got, tt.want)
		}
	}

	for _, bad := range []string{"limit=0", "limit=101", "limit=x", "offset=-1", "status=done", "sort=name", "direction=up", "since=yesterday", "package_id=x"} {
		if a := call(t, s, "GET", "jobs?"+bad, "", "", nil); a.status != 400 || a.message() == "" {
			t.Errorf("%s: %d %s, want 400 with a message", bad, a.status, a.body)
		}
	}
}

func TestStopSemantics(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	j := runForm(t, s, 1)
	s.SetStatus(j.ID, xplenty.StatusRunning)
	clk.Add(time.Minute)

	a := call(t, s, "DELETE", "jobs/1001", "", "", nil)
	if a.status != 200 || a.job(t).Status != xplenty.StatusPendingStoppage {
		t.Fatalf("stop: %d %s", a.status, a.body)
	}
	if got := a.job(t); !got.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("updated_at = %v, want %v", got.UpdatedAt, clk.Now())
	}
	// Without a lifecycle the job waits for the test; asking again is harmless.
	if a := call(t, s, "DELETE", "jobs/1001", "", "", nil); a.status != 200 || a.job(t).Status != xplenty.StatusPendingStoppage {
		t.Errorf("second stop: %d %s", a.status, a.body)
	}
	clk.Add(time.Minute)
	if err := s.SetStatus(j.ID, xplenty.StatusStopped); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Job(j.ID)
	if got.Status != xplenty.StatusStopped || got.CompletedAt == nil || !got.CompletedAt.Equal(clk.Now()) || got.RuntimeInSeconds != 120 {
		t.Errorf("stopped job = %+v", got)
	}
	a = call(t, s, "DELETE", "jobs/1001", "", "", nil)
	if a.status != 422 || !strings.Contains(a.message(), "already stopped") {
		t.Errorf("stopping a stopped job: %d %s, want 422", a.status, a.body)
	}
	if a := call(t, s, "DELETE", "jobs/77", "", "", nil); a.status != 404 {
		t.Errorf("stopping an unknown job: %d, want 404", a.status)
	}
}

func TestBudget(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now, Budget: 3})
	defer s.Close()
	for i, want := range []string{"2", "1", "0"} {
		a := call(t, s, "GET", "jobs", "", "", nil)
		if a.status != 200 || a.header.Get("X-RateLimit-Remaining") != want || a.header.Get("X-RateLimit-Limit") != "3" {
			t.Errorf("call %d: %d remaining %q", i, a.status, a.header.Get("X-RateLimit-Remaining"))
		}
		clk.Add(10 * time.Minute)
	}
	a := call(t, s, "GET", "jobs", "", "", nil)
	if a.status != 429 || a.message() != "Rate Limit Exceeded" || a.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("over budget: %d %s %v", a.status, a.body, a.header)
	}
	// Refused and unauthenticated calls cost nothing.
	call(t, s, "GET", "jobs", "", "", func(r *http.Request) { r.SetBasicAuth("nope", "") })
	if s.Remaining() != 0 {
		t.Errorf("Remaining = %d, want 0", s.Remaining())
	}
	// The hour opened with the first call, 30 minutes ago.
	clk.Add(30 * time.Minute)
	if got := s.Remaining(); got != 3 {
		t.Errorf("Remaining after the hour = %d, want 3", got)
	}
	if a := call(t, s, "GET", "jobs", "", "", nil); a.status != 200 || a.header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("new hour: %d %v", a.status, a.header)
	}
	s.SetBudget(0)
	if a := call(t, s, "GET", "jobs", "", "", nil); a.status != 429 {
		t.Errorf("budget 0: %d, want 429", a.status)
	}
	s.SetBudget(100)
	if got := s.Remaining(); got != 99 {
		t.Errorf("Remaining after SetBudget(100) = %d, want 99", got)
	}
}

func TestFailNextAndDropNextAnswers(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.FailNext(2, 503, "")
	for range 2 {
		a := call(t, s, "POST", "jobs", form, "job[cluster_id]=1&job[package_id]=2", nil)
		if a.status != 503 || a.message() != "Service Unavailable" || a.header.Get("X-RateLimit-Remaining") != "5000" {
			t.Errorf("failed call: %d %s %v", a.status, a.body, a.header)
		}
	}
	if n := len(s.Jobs()); n != 0 {
		t.Errorf("failed runs made %d jobs", n)
	}
	runForm(t, s, 2)

	s.DropNextAnswers(1)
	req, _ := http.NewRequest("POST", s.URL()+"acme/api/jobs", strings.NewReader("job[cluster_id]=1&job[package_id]=2"))
	req.SetBasicAuth(s.APIKey(), "")
	req.Header.Set("Accept", "application/vnd.xplenty+json; version=2")
	req.Header.Set("Content-Type", form)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("dropped answer arrived: %d", resp.StatusCode)
	}
	if n := len(s.Jobs()); n != 2 {
		t.Errorf("jobs = %d, want 2: a dropped answer still runs the job", n)
	}
	if a := call(t, s, "GET", "jobs/1002", "", "", nil); a.status != 200 {
		t.Errorf("after the drop: %d", a.status)
	}
}

func TestRequestsAreRecorded(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now, KeepRequests: 3, BasePath: "/p/"})
	defer s.Close()
	call(t, s, "POST", "jobs?x=1", form, "job[cluster_id]=1&job[package_id]=2", nil)
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/p/acme/api/jobs" || r.Query.Get("x") != "1" || r.Form.Get("job[package_id]") != "2" ||
		string(r.Body) != "job[cluster_id]=1&job[package_id]=2" || r.Header.Get("Accept") == "" || !r.At.Equal(clk.Now()) {
		t.Errorf("request = %+v", r)
	}
	reqs[0].Header.Set("Accept", "changed")
	if s.Requests()[0].Header.Get("Accept") == "changed" {
		t.Error("Requests shares its headers with the server")
	}
	for range 4 {
		call(t, s, "GET", "jobs/1001", "", "", nil)
	}
	if s.RequestCount() != 5 || len(s.Requests()) != 3 {
		t.Errorf("count %d, kept %d; want 5, 3", s.RequestCount(), len(s.Requests()))
	}
	s.ResetRequests()
	if s.RequestCount() != 0 || len(s.Requests()) != 0 {
		t.Errorf("after reset: %d, %d", s.RequestCount(), len(s.Requests()))
	}
}

func TestControls(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	j, _ := s.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: 2, Variables: map[string]string{"A": "1"}})

	clk.Add(time.Minute)
	s.SetStatus(j.ID, xplenty.StatusRunning)
	started := clk.Now()
	clk.Add(time.Minute)
	if err := s.SetProgress(j.ID, 0.5); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	s.SetErrors(j.ID, "boom")
	s.SetStatus(j.ID, xplenty.StatusFailed)
	got, _ := s.Job(j.ID)
	if got.Status != xplenty.StatusFailed || got.Errors != "boom" || got.Progress != 0.5 || !got.StartedAt.Equal(started) ||
		!got.FailedAt.Equal(clk.Now()) || !got.CompletedAt.Equal(clk.Now()) || !got.UpdatedAt.Equal(clk.Now()) || got.RuntimeInSeconds != 120 {
		t.Errorf("failed job = %+v", got)
	}

	j2, _ := s.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: 2})
	s.SetStatus(j2.ID, xplenty.StatusFailed)
	if got, _ := s.Job(j2.ID); got.Errors == "" || got.StartedAt != nil {
		t.Errorf("failed without errors set: %+v", got)
	}
	s.SetStatus(j2.ID, "exploding")
	if got, _ := s.Job(j2.ID); got.Status != "exploding" {
		t.Errorf("unknown status: %q", got.Status)
	}

	s.SetOutputs(j.ID, []xplenty.Output{{Name: "a", RecordsCount: 3, ComponentName: "destination1", ComponentType: "s3_destination"}, {Name: "b"}})
	a := call(t, s, "GET", "jobs/1001", "", "", nil)
	if !strings.Contains(string(a.body), `"component":{"name":"destination1","type":"s3_destination","fields":[]}`) {
		t.Errorf("outputs on the wire: %s", a.body)
	}
	got = a.job(t)
	if len(got.Outputs) != 2 || got.OutputsCount != 2 || got.Outputs[0].ID == 0 || got.Outputs[0].ID == got.Outputs[1].ID ||
		got.Outputs[0].URL == "" || got.Outputs[0].RecordsCount != 3 || got.Outputs[0].ComponentName != "destination1" {
		t.Errorf("outputs = %+v", got.Outputs)
	}

	// Copies, not shared state.
	got, _ = s.Job(j.ID)
	got.Variables["A"] = "changed"
	*got.UpdatedAt = time.Time{}
	if again, _ := s.Job(j.ID); again.Variables["A"] != "1" || again.UpdatedAt.IsZero() {
		t.Error("Job returns shared state")
	}

	for name, err := range map[string]error{
		"SetStatus":   s.SetStatus(99, xplenty.StatusRunning),
		"SetProgress": s.SetProgress(j.ID, 1.5),
		"SetErrors":   s.SetErrors(99, "x"),
		"SetOutputs":  s.SetOutputs(99, nil),
		"empty":       s.SetStatus(j.ID, ""),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, ok := s.Job(99); ok {
		t.Error("Job(99) found")
	}
}

func TestLifecycle(t *testing.T) {
	clk := newClock()
	lc := &Lifecycle{Pending: 10 * time.Second, Running: 20 * time.Second, RunTime: 100 * time.Second, StopDelay: 4 * time.Second, FailureRate: 0.3, Seed: 42}
	s := New(Options{Now: clk.Now, Lifecycle: lc})
	defer s.Close()
	t0 := clk.Now()
	const n = 200
	for range n {
		if _, err := s.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: 2}); err != nil {
			t.Fatal(err)
		}
	}
	statusAt := func(d time.Duration) map[xplenty.Status]int {
		clk.Add(t0.Add(d).Sub(clk.Now()))
		counts := map[xplenty.Status]int{}
		for _, j := range s.Jobs() {
			counts[j.Status]++
		}
		return counts
	}
	if got := statusAt(9 * time.Second); got[xplenty.StatusIdle] != n {
		t.Errorf("at 9s: %v", got)
	}
	if got := statusAt(10 * time.Second); got[xplenty.StatusPending] != n {
		t.Errorf("at 10s: %v", got)
	}
	got := statusAt(30*time.Second + 25*time.Second)
	if got[xplenty.StatusRunning] != n {
		t.Errorf("at 55s: %v", got)
	}
	j, _ := s.Job(1001)
	if j.Progress != 0.2 || !j.StartedAt.Equal(t0.Add(30*time.Second)) || !j.UpdatedAt.Equal(t0.Add(50*time.Second)) || j.RuntimeInSeconds != 25 {
		t.Errorf("running job: progress %v started %v updated %v runtime %d", j.Progress, j.StartedAt, j.UpdatedAt, j.RuntimeInSeconds)
	}

	// Progress steps are visible to a since= list: nothing changed between
	// 50s and 55s, everything at 60s.
	list := func(since time.Time) int {
		a := call(t, s, "GET", "jobs?sort=updated&limit=100&since="+url.QueryEscape(since.Format(time.RFC3339)), "", "", nil)
		return len(a.jobs(t))
	}
	if got := list(t0.Add(51 * time.Second)); got != 0 {
		t.Errorf("changed since 51s: %d, want 0", got)
	}
	clk.Add(5 * time.Second)
	if got := list(t0.Add(51 * time.Second)); got != 100 {
		t.Errorf("changed since 51s, at 60s: %d, want a full page", got)
	}

	got = statusAt(200 * time.Second)
	if got[xplenty.StatusCompleted]+got[xplenty.StatusFailed] != n || got[xplenty.StatusFailed] < n/5 || got[xplenty.StatusFailed] > n*2/5 {
		t.Errorf("at 200s: %v, want all done, about 30%% failed", got)
	}
	for _, j := range s.Jobs() {
		switch j.Status {
		case xplenty.StatusCompleted:
			if len(j.Outputs) == 0 || j.Outputs[0].Name == "" || j.Outputs[0].ComponentName == "" || j.Progress != 1 ||
				!j.CompletedAt.Equal(t0.Add(130*time.Second)) || j.RuntimeInSeconds != 100 || j.Errors != "" {
				t.Fatalf("completed job: %+v", j)
			}
		case xplenty.StatusFailed:
			if j.Errors == "" || !j.FailedAt.Equal(t0.Add(80*time.Second)) || !j.UpdatedAt.Equal(*j.FailedAt) || j.Progress != 0.5 {
				t.Fatalf("failed job: %+v", j)
			}
		}
	}

	// The same seed fails the same jobs.
	s2 := New(Options{Now: clk.Now, Lifecycle: lc})
	defer s2.Close()
	for range n {
		s2.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: 2})
	}
	clk.Add(time.Hour)
	a, b := s.Jobs(), s2.Jobs()
	for i := range a {
		if a[i].Status != b[i].Status || a[i].Errors != b[i].Errors {
			t.Fatalf("job %d: %s/%s, want the same outcome", a[i].ID, a[i].Status, b[i].Status)
		}
	}
}

func TestLifecycleStop(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now, Lifecycle: &Lifecycle{Running: time.Second, RunTime: time.Minute, StopDelay: 10 * time.Second}})
	defer s.Close()
	runForm(t, s, 1)
	clk.Add(5 * time.Second)
	a := call(t, s, "DELETE", "jobs/1001", "", "", nil)
	if a.status != 200 || a.job(t).Status != xplenty.StatusPendingStoppage {
		t.Fatalf("stop: %d %s", a.status, a.body)
	}
	stopAt := clk.Now()
	for _, step := range []struct {
		after time.Duration
		want  xplenty.Status
	}{{4 * time.Second, xplenty.StatusPendingStoppage}, {5 * time.Second, xplenty.StatusStopping}, {10 * time.Second, xplenty.StatusStopped}, {time.Hour, xplenty.StatusStopped}} {
		clk.Add(stopAt.Add(step.after).Sub(clk.Now()))
		if j, _ := s.Job(1001); j.Status != step.want {
			t.Errorf("%s after the stop: %s, want %s", step.after, j.Status, step.want)
		}
	}
	j, _ := s.Job(1001)
	if !j.CompletedAt.Equal(stopAt.Add(10*time.Second)) || !j.UpdatedAt.Equal(*j.CompletedAt) {
		t.Errorf("stopped job: %+v", j)
	}
	if a := call(t, s, "DELETE", "jobs/1001", "", "", nil); a.status != 422 {
		t.Errorf("stopping it again: %d, want 422", a.status)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New(Options{Lifecycle: &Lifecycle{RunTime: time.Millisecond}})
	defer s.Close()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runForm(t, s, int64(i+1))
			call(t, s, "GET", "jobs?sort=updated", "", "", nil)
			s.Jobs()
			s.Remaining()
			s.Requests()
		}()
	}
	wg.Wait()
	if n := len(s.Jobs()); n != 20 {
		t.Errorf("jobs = %d, want 20", n)
	}
}

// BenchmarkListSince measures the watcher's one call per tick against a
// server holding thousands of jobs.
func BenchmarkListSince(b *testing.B) {
	clk := newClock()
	s := New(Options{Now: clk.Now, Budget: 1 << 30, Lifecycle: &Lifecycle{Pending: time.Minute, Running: time.Minute, RunTime: time.Hour}})
	defer s.Close()
	for i := range 2000 {
		s.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: int64(i%10 + 1)})
	}
	target := s.URL() + "acme/api/jobs?sort=updated&direction=asc&limit=100&since="
	b.ResetTimer()
	for b.Loop() {
		since := clk.Now().Add(-time.Minute).Format(time.RFC3339)
		clk.Add(10 * time.Second)
		req, _ := http.NewRequest("GET", target+url.QueryEscape(since), nil)
		req.SetBasicAuth(s.APIKey(), "")
		req.Header.Set("Accept", "application/vnd.xplenty+json; version=2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// The real API keeps times to the second: answers, Job and since= (inclusive)
// see whole seconds, whatever the clock's precision.
func TestWholeSecondTimes(t *testing.T) {
	clk := newClock()
	clk.Add(900 * time.Millisecond) // 09:00:00.9
	s := New(Options{Now: clk.Now})
	defer s.Close()
	t0 := newClock().Now() // 09:00:00

	a := call(t, s, "POST", "jobs", form, "job[cluster_id]=52&job[package_id]=1", nil)
	if a.status != http.StatusCreated {
		t.Fatalf("run: %d %s", a.status, a.body)
	}
	if !strings.Contains(string(a.body), `"created_at":"2026-11-01T09:00:00Z"`) ||
		!strings.Contains(string(a.body), `"updated_at":"2026-11-01T09:00:00Z"`) {
		t.Errorf("run answer times are not whole seconds: %s", a.body)
	}
	clk.Add(300 * time.Millisecond) // 09:00:01.2
	runForm(t, s, 2)                // job 1002
	clk.Add(100 * time.Millisecond) // 09:00:01.3
	if err := s.SetStatus(1001, xplenty.StatusRunning); err != nil {
		t.Fatal(err)
	}
	// Both were last updated in second 09:00:01: 1002 at .2, 1001 at .3.

	clk.Add(1800 * time.Millisecond) // 09:00:03.1
	a = call(t, s, "GET", "jobs/1001", "", "", nil)
	if strings.Contains(string(a.body), ".2") || !strings.Contains(string(a.body), `"started_at":"2026-11-01T09:00:01Z"`) {
		t.Errorf("job answer times are not whole seconds: %s", a.body)
	}
	if j := a.job(t); j.RuntimeInSeconds != 2 {
		t.Errorf("runtime_in_seconds = %d, want 2 (from 09:00:01 to 09:00:03)", j.RuntimeInSeconds)
	}
	if j, _ := s.Job(1001); !j.CreatedAt.Equal(t0) || !j.UpdatedAt.Equal(t0.Add(time.Second)) || !j.StartedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("Job: created %v updated %v started %v, want whole seconds", j.CreatedAt, j.UpdatedAt, j.StartedAt)
	}

	ids := func(js []xplenty.Job) string {
		var out []string
		for _, j := range js {
			out = append(out, fmt.Sprint(j.ID))
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct{ query, want string }{
		{"since=2026-11-01T09:00:01Z", "1002,1001"},
		// A fraction reads as its second: both, updated at 01.2 and 01.3, are in.
		{"since=2026-11-01T09:00:01.5Z", "1002,1001"},
		{"since=2026-11-01T09:00:02Z", ""},
		// Equal seconds sort by id, not by the fraction the API does not keep.
		{"sort=updated&direction=asc&since=2026-11-01T09:00:01Z", "1001,1002"},
		{"sort=updated&direction=asc", "1001,1002"},
	} {
		a := call(t, s, "GET", "jobs?"+tt.query, "", "", nil)
		if a.status != 200 {
			t.Errorf("%s: %d %s", tt.query, a.status, a.body)
			continue
		}
		if got := ids(a.jobs(t)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.query, got, tt.want)
		}
	}
}

// An Accept header without a version is answered, and recorded as such.
func TestAcceptVersionRecorded(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: 2})
	call(t, s, "GET", "jobs/1001", "", "", nil)
	a := call(t, s, "GET", "jobs/1001", "", "", func(r *http.Request) { r.Header.Set("Accept", "application/vnd.xplenty+json") })
	if a.status != 200 {
		t.Errorf("unversioned Accept: %d %s", a.status, a.body)
	}
	call(t, s, "GET", "jobs/1001", "", "", func(r *http.Request) { r.Header.Del("Accept") })
	var got []string
	for _, r := range s.Requests() {
		got = append(got, fmt.Sprintf("%q", r.AcceptVersion))
	}
	if strings.Join(got, " ") != `"2" "" ""` {
		t.Errorf("AcceptVersion of the requests = %s, want \"2\" \"\" \"\"", strings.Join(got, " "))
	}
}
