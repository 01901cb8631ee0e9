package xplenty

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testKey = "xk-9f8e7d6c5b4a-SECRET"

// newTestClient serves mux under the non-empty base path /prefix/, so a
// request built from an absolute path misses it and fails the test.
func newTestClient(t *testing.T, cfg Config) (*Client, *http.ServeMux, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/prefix/") {
			t.Errorf("request to %s, outside the base path", r.URL.Path)
			http.NotFound(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL + "/prefix/"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "acme"
	}
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Millisecond
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 4 * time.Millisecond
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, mux, srv
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// hangUp closes the connection without answering.
func hangUp(t *testing.T, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("Hijack: %v", err)
		return
	}
	conn.Close()
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" for success
	}{
		{"minimal", Config{AccountID: "acme", APIKey: "k"}, ""},
		{"base with path", Config{BaseURL: "http://localhost:8080/x/y", AccountID: "acme", APIKey: "k"}, ""},
		{"no account", Config{APIKey: "k"}, "account id is required"},
		{"no key", Config{AccountID: "acme"}, "API key is required"},
		{"both missing", Config{}, "account id is required; API key is required"},
		{"dot account", Config{AccountID: "..", APIKey: "k"}, "not valid"},
		{"account with newline", Config{AccountID: "acme\n", APIKey: "k"}, "control characters"},
		{"key with colon", Config{AccountID: "acme", APIKey: "abc:def"}, "API key contains"},
		{"key with newline", Config{AccountID: "acme", APIKey: "abc\n"}, "API key contains"},
		{"relative base", Config{BaseURL: "api.xplenty.com", AccountID: "acme", APIKey: "k"}, "https://"},
		{"ftp base", Config{BaseURL: "ftp://h/", AccountID: "acme", APIKey: "k"}, "https://"},
		{"base with user info", Config{BaseURL: "https://user:pw@h/", AccountID: "acme", APIKey: "k"}, "user info"},
		{"base with query", Config{BaseURL: "https://h/?a=1", AccountID: "acme", APIKey: "k"}, "query"},
		{"negative attempts", Config{AccountID: "acme", APIKey: "k", MaxAttempts: -1}, "max attempts"},
		{"negative backoff", Config{AccountID: "acme", APIKey: "k", RetryBase: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New error = %v, want one containing %q", err, tt.wantErr)
			}
			if err != nil && tt.cfg.APIKey != "" && tt.cfg.APIKey != "k" && strings.Contains(err.Error(), strings.TrimSpace(tt.cfg.APIKey)) {
				t.Errorf("error %q contains the API key", err)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("error %q repeats the base URL's password", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{AccountID: "acme", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.base.String(), DefaultBaseURL; got != want {
		t.Errorf("base = %q, want %q", got, want)
	}
	if got, want := c.userAgent, "runjob/dev"; got != want {
		t.Errorf("user agent = %q, want %q", got, want)
	}
	if c.hc == nil || c.hc.Timeout != 30*time.Second {
		t.Errorf("default HTTP client = %+v, want a 30s timeout", c.hc)
	}
	if c.maxAttempts != 4 || c.retryBase != 500*time.Millisecond || c.retryMax != 30*time.Second {
		t.Errorf("retry defaults = %d %s %s", c.maxAttempts, c.retryBase, c.retryMax)
	}
}

func TestJobsPageURL(t *testing.T) {
	tests := []struct{ base, account, want string }{
		{"", "acme", "https://app.xplenty.com/acme/jobs"},
		{"https://API.example.io/", "a b", "https://app.example.io/a%20b/jobs"},
		{"http://api.local:8080/v2/", "acme", "http://app.local:8080/acme/jobs"},
		{"http://127.0.0.1:4000/xplenty", "acme", "http://127.0.0.1:4000/xplenty/acme/jobs"},
	}
	for _, tt := range tests {
		c, err := New(Config{BaseURL: tt.base, AccountID: tt.account, APIKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.JobsPageURL(); got != tt.want {
			t.Errorf("JobsPageURL() for %q = %q, want %q", tt.base, got, tt.want)
		}
	}
}

func TestGetJobRequest(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{UserAgent: "runjob/1.2.3"})
	var got *http.Request
	mux.HandleFunc("/prefix/acme/api/jobs/157", func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		writeJSON(w, http.StatusOK, seedExample)
	})
	job, err := c.GetJob(context.Background(), 157)
	if err != nil {
		t.Fatalf("GetJob: %v", err)
	}
	if job.ID != 157 || job.Status != StatusCompleted || len(job.Outputs) != 2 {
		t.Errorf("job = %s", dump(job))
	}
	if got.Method != http.MethodGet {
		t.Errorf("method = %s, want GET", got.Method)
	}
	if got, want := got.Header.Get("Accept"), "application/vnd.xplenty+json; version=2"; got != want {
		t.Errorf("Accept = %q, want %q", got, want)
	}
	if got, want := got.Header.Get("User-Agent"), "runjob/1.2.3"; got != want {
		t.Errorf("User-Agent = %q, want %q", got, want)
	}
	user, pass, ok := got.BasicAuth()
	if !ok || user != testKey || pass != "" {
		t.Errorf("basic auth = %q %q %v, want the key and an empty password", user, pass, ok)
	}
	if got.URL.RawQuery != "" {
		t.Errorf("query = %q, want none", got.URL.RawQuery)
	}
}

func TestAccountIsPathEscaped(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{AccountID: "a b/c"})
	var gotPath string
	mux.HandleFunc("/prefix/", func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		writeJSON(w, http.StatusOK, `{"id": 1}`)
	})
	if _, err := c.GetJob(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if want := "/prefix/a%20b%2Fc/api/jobs/1"; gotPath != want {
		t.Errorf("path = %q, want %q", gotPath, want)
	}
}

func TestRunJobSendsForm(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	var gotForm url.Values
	var gotType string
	mux.HandleFunc("POST /prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
		gotType = r.Header.Get("Content-Type")
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		gotForm = r.PostForm
		writeJSON(w, http.StatusCreated, `{"id": 1001, "status": "idle", "cluster_id": 52, "package_id": 434, "variables": {"DATE": "2026-11-01"}}`)
	})
	job, err := c.RunJob(context.Background(), RunRequest{
		ClusterID: 52, PackageID: 434,
		Variables:        map[string]string{"DATE": "2026-11-01", "Q": "a&b=c+d ü"},
		DynamicVariables: map[string]string{"NOW": "CurrentTime()", "_x1": "'a string'"},
	})
	if err != nil {
		t.Fatalf("RunJob: %v", err)
	}
	if job.ID != 1001 || job.Status != StatusIdle {
		t.Errorf("job = %s", dump(job))
	}
	if gotType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", gotType)
	}
	want := url.Values{
		"job[cluster_id]":             {"52"},
		"job[package_id]":             {"434"},
		"job[variables][DATE]":        {"2026-11-01"},
		"job[variables][Q]":           {"a&b=c+d ü"},
		"job[dynamic_variables][NOW]": {"CurrentTime()"},
		"job[dynamic_variables][_x1]": {"'a string'"},
	}
	if got, want := gotForm.Encode(), want.Encode(); got != want {
		t.Errorf("form = %s\nwant   %s", got, want)
	}
}

func TestRunJobRejectsBeforeSending(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	var calls atomic.Int32
	mux.HandleFunc("/prefix/", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, http.StatusCreated, `{"id": 1}`)
	})
	tests := []struct {
		name    string
		req     RunRequest
		wantErr string
	}{
		{"no cluster", RunRequest{PackageID: 1}, "cluster id must be a positive number, got 0"},
		{"negative package", RunRequest{ClusterID: 1, PackageID: -4}, "package id must be a positive number, got -4"},
		{"bracket injection", RunRequest{ClusterID: 1, PackageID: 2, Variables: map[string]string{"x][cluster_id": "9"}}, `"x][cluster_id"`},
		{"dynamic name with dash", RunRequest{ClusterID: 1, PackageID: 2, DynamicVariables: map[string]string{"a-b": "1"}}, `"a-b"`},
		{"leading digit", RunRequest{ClusterID: 1, PackageID: 2, Variables: map[string]string{"1a": "1"}}, `"1a"`},
		{"empty name", RunRequest{ClusterID: 1, PackageID: 2, Variables: map[string]string{"": "1"}}, `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.RunJob(context.Background(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("RunJob error = %v, want one containing %q", err, tt.wantErr)
			}
			if IsOutcomeUnknown(err) {
				t.Errorf("a request never sent has a known outcome: %v", err)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
	if _, err := c.GetJob(context.Background(), 0); err == nil {
		t.Error("GetJob(0) succeeded, want an error")
	}
	if _, err := c.StopJob(context.Background(), -1); err == nil {
		t.Error("StopJob(-1) succeeded, want an error")
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

func TestValidVariableName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"DATE", true}, {"_", true}, {"a1_B2", true}, {"_9", true},
		{"", false}, {"9a", false}, {"a-b", false}, {"a b", false}, {"a]", false}, {"x][cluster_id", false},
		{"é", false}, {"a.b", false}, {"a\n", false},
	}
	for _, tt := range tests {
		if got := ValidVariableName(tt.name); got != tt.want {
			t.Errorf("ValidVariableName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestListJobsQuery(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	var gotQuery string
	mux.HandleFunc("GET /prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		writeJSON(w, http.StatusOK, `[]`)
	})
	since := time.Date(2026, 11, 1, 10, 0, 0, 500, time.FixedZone("", 3*3600))
	tests := []struct {
		name      string
		opts      ListOptions
		wantQuery string
		wantErr   string
	}{
		{"defaults", ListOptions{}, "", ""},
		{"everything", ListOptions{Status: StatusRunning, Sort: "updated", Direction: "asc", Since: since, PackageID: 434, Offset: 40, Limit: 100},
			"direction=asc&limit=100&offset=40&package_id=434&since=2026-11-01T07%3A00%3A00Z&sort=updated&status=running", ""},
		{"status all", ListOptions{Status: "all"}, "status=all", ""},
		{"bad sort", ListOptions{Sort: "name"}, "", "sort must be created or updated"},
		{"bad direction", ListOptions{Direction: "up"}, "", "direction must be asc or desc"},
		{"limit zero is the server's default", ListOptions{Limit: 0, Offset: 5}, "offset=5", ""},
		{"limit too big", ListOptions{Limit: 101}, "", "limit must be between 0 (the server's default) and 100, got 101"},
		{"negative limit", ListOptions{Limit: -1}, "", "limit must be between 0 (the server's default) and 100, got -1"},
		{"negative offset", ListOptions{Offset: -1}, "", "offset must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotQuery = "not called"
			page, err := c.ListJobs(context.Background(), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ListJobs error = %v, want one containing %q", err, tt.wantErr)
				}
				if gotQuery != "not called" {
					t.Errorf("an invalid list was sent: %q", gotQuery)
				}
				return
			}
			if err != nil {
				t.Fatalf("ListJobs: %v", err)
			}
			if gotQuery != tt.wantQuery {
				t.Errorf("query = %q, want %q", gotQuery, tt.wantQuery)
			}
			if len(page.Jobs) != 0 || page.NextURL != "" {
				t.Errorf("page = %+v, want empty", page)
			}
		})
	}
}

func TestNextLink(t *testing.T) {
	req, _ := url.Parse("https://api.xplenty.com/acme/api/jobs?limit=2")
	tests := []struct {
		name   string
		header []string
		want   string
	}{
		{"none", nil, ""},
		{"absolute", []string{`<https://api.xplenty.com/acme/api/jobs?limit=2&offset=2>; rel="next"`}, "https://api.xplenty.com/acme/api/jobs?limit=2&offset=2"},
		{"relative", []string{`</acme/api/jobs?offset=2>; rel="next"`}, "https://api.xplenty.com/acme/api/jobs?offset=2"},
		{"among others", []string{`<https://h/a?x=1,2>; rel="prev", <https://h/b>; rel="next", <https://h/c>; rel="last"`}, "https://h/b"},
		{"unquoted, several rels, odd case", []string{`<https://h/b>; title="a, b"; REL=next`}, "https://h/b"},
		{"multi-valued rel", []string{`<https://h/b>; rel="last next"`}, "https://h/b"},
		{"second header", []string{`<https://h/a>; rel="prev"`, `<https://h/b>; rel="next"`}, "https://h/b"},
		{"only prev", []string{`<https://h/a>; rel="prev"`}, ""},
		{"garbage", []string{`next, <>; ; rel=`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if u := nextLink(tt.header, req); u != nil {
				got = u.String()
			}
			if got != tt.want {
				t.Errorf("nextLink(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

// pagedServer serves jobs 1..n in pages of size per, announcing the next
// page with a relative or absolute Link.
func pagedServer(t *testing.T, c *Client, mux *http.ServeMux, n, per int, ids func(page int) []int) *atomic.Int32 {
	t.Helper()
	var calls atomic.Int32
	mux.HandleFunc("GET /prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var page int
		fmt.Sscan(r.URL.Query().Get("page"), &page)
		var parts []string
		for _, id := range ids(page) {
			parts = append(parts, fmt.Sprintf(`{"id": %d, "status": "running"}`, id))
		}
		if (page+1)*per < n {
			// Alternate absolute and relative links.
			next := fmt.Sprintf("/prefix/acme/api/jobs?page=%d", page+1)
			if page%2 == 0 {
				next = "http://" + r.Host + next
			}
			w.Header().Set("Link", "<"+next+`>; rel="next"`)
		}
		writeJSON(w, http.StatusOK, "["+strings.Join(parts, ",")+"]")
	})
	return &calls
}

func TestListAllJobs(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	// 3 pages of 2; page 1 repeats job 2 (a job was added while paging).
	calls := pagedServer(t, c, mux, 6, 2, func(page int) []int {
		return [][]int{{1, 2}, {2, 3}, {4, 5}}[page]
	})

	jobs, truncated, err := c.ListAllJobs(context.Background(), ListOptions{}, 10)
	if err != nil {
		t.Fatalf("ListAllJobs: %v", err)
	}
	var ids []int64
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	if got, want := fmt.Sprint(ids), "[1 2 3 4 5]"; got != want || truncated {
		t.Errorf("ids = %s truncated = %v, want %s false", got, truncated, want)
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("calls = %d, want 3", got)
	}

	calls.Store(0)
	jobs, truncated, err = c.ListAllJobs(context.Background(), ListOptions{}, 2)
	if err != nil || !truncated || len(jobs) != 3 {
		t.Errorf("ListAllJobs(maxPages 2) = %d jobs, truncated %v, err %v; want 3 jobs, truncated", len(jobs), truncated, err)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("calls = %d, want 2", got)
	}

	if _, _, err := c.ListAllJobs(context.Background(), ListOptions{}, 0); err == nil {
		t.Error("ListAllJobs(maxPages 0) succeeded, want an error")
	}
}

func TestNextJobs(t *testing.T) {
	c, mux, srv := newTestClient(t, Config{})
	pagedServer(t, c, mux, 4, 2, func(page int) []int { return []int{2*page + 1, 2*page + 2} })
	page, err := c.ListJobs(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := srv.URL + "/prefix/acme/api/jobs?page=1"; page.NextURL != want {
		t.Errorf("NextURL = %q, want %q", page.NextURL, want)
	}
	page, err = c.NextJobs(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Jobs) != 2 || page.Jobs[0].ID != 3 || page.NextURL != "" {
		t.Errorf("second page = %s", dump(page))
	}
	if _, err := c.NextJobs(context.Background(), page); !errors.Is(err, ErrNoNextPage) {
		t.Errorf("NextJobs on the last page: %v, want ErrNoNextPage", err)
	}
	if _, err := c.NextJobs(context.Background(), nil); !errors.Is(err, ErrNoNextPage) {
		t.Errorf("NextJobs(nil): %v, want ErrNoNextPage", err)
	}
}

func TestNextJobsStaysOnTheAPIHost(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		writeJSON(w, http.StatusOK, `[]`)
	}))
	defer other.Close()
	c, mux, srv := newTestClient(t, Config{})
	mux.HandleFunc("/prefix/", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, `[]`) })
	u, _ := url.Parse(srv.URL)
	for _, next := range []string{
		other.URL + "/prefix/acme/api/jobs?offset=20",
		"https://" + u.Host + "/prefix/acme/api/jobs?offset=20",
		"http://" + testKey + "@" + u.Host + "/prefix/acme/api/jobs",
		"http://" + u.Hostname() + ":1/prefix/acme/api/jobs",
		"http://%zz",
		"mailto:x@example.com",
	} {
		_, err := c.NextJobs(context.Background(), &JobPage{NextURL: next})
		if err == nil {
			t.Errorf("NextJobs(%q) succeeded, want a refusal", next)
			continue
		}
		if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "offset") {
			t.Errorf("refusal %q repeats the link", err)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
	// The same origin written differently is fine.
	if _, err := c.NextJobs(context.Background(), &JobPage{NextURL: "HTTP://" + strings.ToUpper(u.Host) + "/prefix/acme/api/jobs"}); err != nil {
		t.Errorf("same origin, other case: %v", err)
	}
}

func TestStopJobAndLog(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	mux.HandleFunc("DELETE /prefix/acme/api/jobs/5", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"id": 5, "status": "pending_stoppage"}`)
	})
	mux.HandleFunc("DELETE /prefix/acme/api/jobs/6", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /prefix/acme/api/jobs/5/log", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"body": "line 1\nline 2", "url": "https://logs.example/5", "size": 12}`)
	})
	job, err := c.StopJob(context.Background(), 5)
	if err != nil || job.ID != 5 || job.Status != StatusPendingStoppage {
		t.Errorf("StopJob(5) = %s, %v", dump(job), err)
	}
	job, err = c.StopJob(context.Background(), 6)
	if err != nil || job.ID != 6 || job.Status != StatusPendingStoppage {
		t.Errorf("StopJob(6) with an empty answer = %s, %v", dump(job), err)
	}
	log, err := c.JobLog(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if *log != (JobLog{Body: "line 1\nline 2", URL: "https://logs.example/5"}) {
		t.Errorf("log = %+v", log)
	}
}

func TestRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		writeJSON(w, http.StatusOK, `{"id": 2}`)
	}))
	defer other.Close()
	c, mux, _ := newTestClient(t, Config{})
	mux.HandleFunc("/prefix/acme/api/jobs/1", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/prefix/acme/api/jobs/2", http.StatusFound)
	})
	mux.HandleFunc("/prefix/acme/api/jobs/2", func(w http.ResponseWriter, r *http.Request) {
		if user, _, _ := r.BasicAuth(); user != testKey {
			t.Errorf("redirected request lost its credentials")
		}
		writeJSON(w, http.StatusOK, `{"id": 2}`)
	})
	mux.HandleFunc("/prefix/acme/api/jobs/3", func(w http.ResponseWriter, r *http.Request) {
		// Same host name, another port: net/http would send the key along.
		http.Redirect(w, r, other.URL+"/prefix/acme/api/jobs/2", http.StatusFound)
	})
	if job, err := c.GetJob(context.Background(), 1); err != nil || job.ID != 2 {
		t.Errorf("same-origin redirect: %v, %v", job, err)
	}
	_, err := c.GetJob(context.Background(), 3)
	var er *ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != http.StatusFound {
		t.Errorf("redirect to another origin: %v, want the 302 as an *ErrorResponse", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		status  int
		body    string
		wantMsg string
		is      string // the one predicate that holds
	}{
		{400, `{"message": "Invalid limit"}`, "Invalid limit", ""},
		{401, `{"message": "Unauthorized"}`, "Unauthorized", "IsUnauthorized"},
		{402, `{"message": "Payment required: plan expired"}`, "Payment required: plan expired", ""},
		{403, `{"error": "Forbidden"}`, "Forbidden", ""},
		{404, `{"message": "Item not found."}`, "Item not found.", "IsNotFound"},
		{406, `{"message": "Not Acceptable"}`, "Not Acceptable", ""},
		{415, `Unsupported Media Type`, "Unsupported Media Type", ""},
		{422, `{"message": "Package 999 not found"}`, "Package 999 not found", "IsInvalid"},
		{429, `{"message": "Rate Limit Exceeded"}`, "Rate Limit Exceeded", "IsRateLimited"},
		{500, `{"message": "Internal error"}`, "Internal error", ""},
		{502, "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>", "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>", ""},
		{503, ``, "", ""},
	}
	checks := map[string]func(error) bool{
		"IsNotFound": IsNotFound, "IsUnauthorized": IsUnauthorized, "IsInvalid": IsInvalid, "IsRateLimited": IsRateLimited,
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			c, mux, _ := newTestClient(t, Config{MaxAttempts: 1})
			mux.HandleFunc("/prefix/acme/api/jobs/9", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, tt.status, tt.body)
			})
			_, err := c.GetJob(context.Background(), 9)
			wrapped := fmt.Errorf("watch job 9: %w", err)
			var er *ErrorResponse
			if !errors.As(wrapped, &er) {
				t.Fatalf("error %v is not an *ErrorResponse", err)
			}
			want := ErrorResponse{Method: "GET", Path: "/prefix/acme/api/jobs/9", StatusCode: tt.status, message: tt.wantMsg}
			if *er != want {
				t.Errorf("got %+v, want %+v", *er, want)
			}
			for name, check := range checks {
				// Only the matching predicate holds, through wrapping.
				if got, want := check(wrapped), name == tt.is; got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			if IsOutcomeUnknown(err) {
				t.Errorf("a GET has no unknown outcome: %v", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("GET /prefix/acme/api/jobs/9: %d", tt.status)) {
				t.Errorf("Error() = %q", err)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	long := strings.Repeat("é", maxMessageLen) // twice the bound, in bytes
	tests := []struct{ name, body, want string }{
		{"message", `{"message": "Item not found.", "error": "x"}`, "Item not found."},
		{"error", `{"error": "Forbidden"}`, "Forbidden"},
		{"nested error", `{"error": {"code": 7, "message": "Bad key"}}`, "Bad key"},
		{"errors list", `{"errors": ["a", "b"]}`, "a; b"},
		{"empty message falls back", `{"message": "", "error": "E"}`, "E"},
		{"json string", `"Rate Limit Exceeded"`, "Rate Limit Exceeded"},
		{"raw text", "Service Unavailable\r\n", "Service Unavailable"},
		{"object without message", `{"code": 5}`, "code: 5"},
		// Objects and lists are read as text, escapes decoded, so a
		// secret's echo is the literal value the scrubber looks for.
		{"errors object", `{"errors": {"variables": ["DB_PASSWORD value Zq8vK\u0026w7\"Xk9 is not allowed"]}}`,
			`variables: DB_PASSWORD value Zq8vK&w7"Xk9 is not allowed`},
		{"message object in order", `{"message": {"name": ["can't be blank", "is too short"], "base": ["x\u003cy"], "n": null, "code": 5}}`,
			"name: can't be blank; is too short; base: x<y; code: 5"},
		{"error list with an object", `{"error": ["first", {"detail": "second"}, [], ""]}`, "first; detail: second"},
		{"object of nothing falls back", `{"message": {"a": null}, "error": "E"}`, "E"},
		{"empty", "  ", ""},
		{"not utf-8", "\xff\xfe", ""},
		{"long, bounded for memory only", `{"message": "` + long + `"}`, strings.Repeat("é", maxMessageLen/2) + "…"},
		{"spaces and lines kept", `{"message": "a  b\n\tc"}`, "a  b\n\tc"},
	}
	c, err := New(Config{AccountID: "acme", APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncate(c.scrub(errorMessage([]byte(tt.body))), maxMessageLen); got != tt.want {
				t.Errorf("message(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{MaxAttempts: 1})
	var remaining atomic.Int32
	remaining.Store(4999)
	mux.HandleFunc("/prefix/acme/api/jobs/1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(remaining.Add(-1)))
		writeJSON(w, http.StatusOK, `{"id": 1}`)
	})
	mux.HandleFunc("/prefix/acme/api/jobs/2", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeJSON(w, http.StatusTooManyRequests, `{"message": "Rate Limit Exceeded"}`)
	})
	mux.HandleFunc("/prefix/acme/api/jobs/3", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusBadGateway, `bad gateway`) // a proxy: no headers
	})

	if got := c.RateLimit(); got != (RateLimit{}) {
		t.Errorf("before any call: %+v, want zero", got)
	}
	if _, err := c.GetJob(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if got := c.RateLimit(); got.Limit != 5000 || got.Remaining != 4998 || got.Observed.IsZero() {
		t.Errorf("after success: %+v", got)
	}
	_, err := c.GetJob(context.Background(), 2)
	if !IsRateLimited(err) {
		t.Errorf("GetJob(2) = %v, want rate limited", err)
	}
	if got := c.RateLimit(); got.Limit != 5000 || got.Remaining != 0 {
		t.Errorf("after 429: %+v", got)
	}
	c.GetJob(context.Background(), 3)
	if got := c.RateLimit(); got.Limit != 5000 || got.Remaining != 0 {
		t.Errorf("an answer without headers changed the rate limit: %+v", got)
	}

	// Readers and callers at once, for the race detector.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(2)
		go func() { defer wg.Done(); c.GetJob(context.Background(), 1) }()
		go func() { defer wg.Done(); _ = c.RateLimit() }()
	}
	wg.Wait()
}

func TestOnResponse(t *testing.T) {
	type obs struct {
		method, route string
		status        int
	}
	var mu sync.Mutex
	var got []obs
	c, mux, _ := newTestClient(t, Config{OnResponse: func(method, route string, status int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, obs{method, route, status})
		if d < 0 {
			t.Errorf("negative duration %s", d)
		}
	}})
	var n atomic.Int32
	mux.HandleFunc("/prefix/acme/api/jobs/1", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hangUp(t, w)
			return
		}
		writeJSON(w, http.StatusOK, `{"id": 1}`)
	})
	mux.HandleFunc("/prefix/acme/api/jobs/1/log", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"body": ""}`)
	})
	mux.HandleFunc("/prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, `{"id": 2}`)
	})
	c.GetJob(context.Background(), 1)
	c.JobLog(context.Background(), 1)
	c.RunJob(context.Background(), RunRequest{ClusterID: 1, PackageID: 1})
	want := []obs{{"GET", "/jobs/{id}", 0}, {"GET", "/jobs/{id}", 200}, {"GET", "/jobs/{id}/log", 200}, {"POST", "/jobs", 201}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}

func TestGetRetries(t *testing.T) {
	tests := []struct {
		name      string
		answers   []int // status per attempt; 0 hangs up
		wantCalls int32
		wantErr   bool
	}{
		{"503 then ok", []int{503, 503, 200}, 3, false},
		// The hourly budget does not come back in seconds; the caller
		// backs off (the bot's job watcher slows its polling).
		{"429 is final", []int{429, 200}, 1, true},
		{"dropped connection then ok", []int{0, 200}, 2, false},
		{"500 four times", []int{500, 500, 500, 500, 200}, 4, true},
		{"404 is final", []int{404, 200}, 1, true},
		{"401 is final", []int{401, 200}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _ := newTestClient(t, Config{})
			var calls atomic.Int32
			mux.HandleFunc("/prefix/acme/api/jobs/1", func(w http.ResponseWriter, r *http.Request) {
				switch status := tt.answers[calls.Add(1)-1]; status {
				case 0:
					hangUp(t, w)
				case 200:
					writeJSON(w, status, `{"id": 1}`)
				default:
					writeJSON(w, status, `{"message": "no"}`)
				}
			})
			_, err := c.GetJob(context.Background(), 1)
			if (err != nil) != tt.wantErr {
				t.Errorf("GetJob error = %v, want error %v", err, tt.wantErr)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

// TestRateLimitedIsNotRetried checks that a 429 comes back at once, as the
// typed error, for every kind of call, and costs one call of the budget.
func TestRateLimitedIsNotRetried(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	var calls atomic.Int32
	mux.HandleFunc("/prefix/acme/api/", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeJSON(w, http.StatusTooManyRequests, `{"message": "Rate Limit Exceeded"}`)
	})
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"GetJob":   func() error { _, err := c.GetJob(ctx, 1); return err },
		"JobLog":   func() error { _, err := c.JobLog(ctx, 1); return err },
		"ListJobs": func() error { _, err := c.ListJobs(ctx, ListOptions{}); return err },
		"RunJob":   func() error { _, err := c.RunJob(ctx, RunRequest{ClusterID: 1, PackageID: 2}); return err },
		"StopJob":  func() error { _, err := c.StopJob(ctx, 1); return err },
	} {
		calls.Store(0)
		err := call()
		if !IsRateLimited(err) || IsOutcomeUnknown(err) {
			t.Errorf("%s = %v, want a plain 429", name, err)
		}
		if got := calls.Load(); got != 1 {
			t.Errorf("%s: %d calls, want 1", name, got)
		}
	}
}

func TestGetRetryStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the first answer has been read, as a shutdown would.
	c, mux, _ := newTestClient(t, Config{RetryBase: time.Hour, RetryMax: time.Hour,
		OnResponse: func(string, string, int, time.Duration) { cancel() }})
	var calls atomic.Int32
	mux.HandleFunc("/prefix/acme/api/jobs/1", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, http.StatusServiceUnavailable, `{"message": "down"}`)
	})
	_, err := c.GetJob(ctx, 1)
	var er *ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != 503 {
		t.Errorf("GetJob = %v, want the 503", err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("calls = %d, want 1", got)
	}

}

// TestGetRetryWaitStops checks the wait between attempts: one that would
// outlast ctx's deadline is not started, and one in progress ends with ctx.
func TestGetRetryWaitStops(t *testing.T) {
	// Backoff draws from [0, 2⁶² ns), about 146 years: below the hour left
	// with odds of one in a million.
	const huge = time.Duration(1 << 62)
	for _, tc := range []struct {
		name string
		ctx  func(*testing.T) context.Context
	}{
		{name: "past the deadline", ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			t.Cleanup(cancel)
			return ctx
		}},
		{name: "canceled during the wait", ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			// Cancel once the wait has begun, not before do looks at ctx.
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := newTestClient(t, Config{RetryBase: huge, RetryMax: huge})
			var calls atomic.Int32
			mux.HandleFunc("/prefix/acme/api/jobs/1", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				writeJSON(w, http.StatusServiceUnavailable, `{"message": "down"}`)
			})
			start := time.Now()
			_, err := c.GetJob(tc.ctx(t), 1)
			var er *ErrorResponse
			if !errors.As(err, &er) || er.StatusCode != 503 {
				t.Errorf("GetJob = %v, want the 503", err)
			}
			if got := calls.Load(); got != 1 {
				t.Errorf("calls = %d, want 1", got)
			}
			if d := time.Since(start); d > time.Minute {
				t.Errorf("GetJob took %s: the wait did not stop", d)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	c, err := New(Config{AccountID: "a", APIKey: "k", RetryBase: 100 * time.Millisecond, RetryMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for attempt, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 80: time.Second} {
		var top time.Duration
		for range 2000 {
			d := c.backoff(attempt, c.retryBase)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %s, want within [0, %s]", attempt, d, ceiling)
			}
			top = max(top, d)
		}
		if top < ceiling/2 {
			t.Errorf("backoff(%d) never above %s in 2000 draws: no jitter over the full range?", attempt, top)
		}
	}
}

func TestRunJobIsNeverRetried(t *testing.T) {
	tests := []struct {
		status      int
		wantUnknown bool
	}{
		{400, false}, {401, false}, {404, false}, {422, false}, {429, false},
		{500, true}, {502, true}, {503, true}, {504, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			c, mux, _ := newTestClient(t, Config{})
			var calls atomic.Int32
			mux.HandleFunc("/prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				writeJSON(w, tt.status, `{"message": "nope"}`)
			})
			_, err := c.RunJob(context.Background(), RunRequest{ClusterID: 1, PackageID: 2})
			if got := calls.Load(); got != 1 {
				t.Errorf("calls = %d, want 1", got)
			}
			if got := IsOutcomeUnknown(err); got != tt.wantUnknown {
				t.Errorf("IsOutcomeUnknown(%v) = %v, want %v", err, got, tt.wantUnknown)
			}
			var er *ErrorResponse
			if !errors.As(err, &er) || er.StatusCode != tt.status {
				t.Errorf("error %v does not carry the %d answer", err, tt.status)
			}
		})
	}
}

// TestWritesDoNotFollowRedirects checks that a run or a stop answered with a
// redirect, even to the same origin, is not sent again (net/http would turn
// the POST into a GET on 301, 302 and 303, and repeat it on 307 and 308), and
// that its outcome is unknown: the server may have acted before redirecting.
func TestWritesDoNotFollowRedirects(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			c, mux, _ := newTestClient(t, Config{})
			var calls, redirected atomic.Int32
			mux.HandleFunc("/prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Redirect(w, r, "/prefix/acme/api/moved/jobs", status)
			})
			mux.HandleFunc("/prefix/acme/api/jobs/3", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Redirect(w, r, "/prefix/acme/api/moved/jobs/3", status)
			})
			mux.HandleFunc("/prefix/acme/api/moved/", func(w http.ResponseWriter, r *http.Request) {
				redirected.Add(1)
				writeJSON(w, http.StatusOK, `{"id": 3, "status": "running"}`)
			})
			ctx := context.Background()
			_, runErr := c.RunJob(ctx, RunRequest{ClusterID: 1, PackageID: 2})
			_, stopErr := c.StopJob(ctx, 3)
			for name, err := range map[string]error{"RunJob": runErr, "StopJob": stopErr} {
				var er *ErrorResponse
				if !IsOutcomeUnknown(err) || !errors.As(err, &er) || er.StatusCode != status {
					t.Errorf("%s answered %d: %v, want the %d as an *ErrorResponse with an unknown outcome", name, status, err, status)
				}
			}
			if got := calls.Load(); got != 2 {
				t.Errorf("%d calls, want 2 (one run, one stop)", got)
			}
			if got := redirected.Load(); got != 0 {
				t.Errorf("the redirect was followed %d times", got)
			}
		})
	}
}

func TestRunJobOutcomeUnknown(t *testing.T) {
	type handler func(t *testing.T, w http.ResponseWriter, r *http.Request, cancel context.CancelFunc)
	tests := []struct {
		name    string
		handler handler
		timeout time.Duration
	}{
		{name: "connection dropped before the answer", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request, _ context.CancelFunc) { hangUp(t, w) }},
		{name: "created, body not JSON", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request, _ context.CancelFunc) {
			writeJSON(w, 201, `<html>`)
		}},
		{name: "created, empty body", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request, _ context.CancelFunc) { w.WriteHeader(201) }},
		{name: "created, no job id", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request, _ context.CancelFunc) {
			writeJSON(w, 201, `{"status": "idle"}`)
		}},
		{name: "created, body cut short", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request, _ context.CancelFunc) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(201)
			io.WriteString(w, `{"id": 1`)
		}},
		{name: "not modified", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request, _ context.CancelFunc) { w.WriteHeader(304) }},
		{name: "client timeout after sending", timeout: 50 * time.Millisecond, handler: func(t *testing.T, w http.ResponseWriter, r *http.Request, _ context.CancelFunc) {
			<-r.Context().Done()
		}},
		{name: "context canceled after sending", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request, cancel context.CancelFunc) {
			cancel()
			<-r.Context().Done()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, mux, _ := newTestClient(t, Config{HTTPClient: &http.Client{Timeout: tt.timeout}})
			var calls atomic.Int32
			mux.HandleFunc("/prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				// Read the body: only then does net/http notice a client
				// that hangs up, and end r.Context().
				io.Copy(io.Discard, r.Body)
				tt.handler(t, w, r, cancel)
			})
			job, err := c.RunJob(ctx, RunRequest{ClusterID: 1, PackageID: 2})
			if !IsOutcomeUnknown(err) || !errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("RunJob = %v, %v; want an unknown outcome", job, err)
			}
			if err != nil && !strings.Contains(err.Error(), "POST /prefix/acme/api/jobs") {
				t.Errorf("error %q does not name the call", err)
			}
			if got := calls.Load(); got != 1 {
				t.Errorf("calls = %d, want 1", got)
			}
		})
	}
}

func TestRefusedConnectionIsACleanFailure(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/prefix/"
	srv.Close() // nothing listens there any more

	var attempts atomic.Int32
	c, err := New(Config{BaseURL: base, AccountID: "acme", APIKey: testKey, RetryBase: time.Millisecond, RetryMax: time.Millisecond,
		OnResponse: func(method, route string, status int, d time.Duration) { attempts.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RunJob(context.Background(), RunRequest{ClusterID: 1, PackageID: 2})
	if err == nil || IsOutcomeUnknown(err) {
		t.Errorf("RunJob against a closed port = %v, want a failure with a known outcome", err)
	}
	// Nothing was sent, so trying again was safe.
	if got := attempts.Load(); got != 4 {
		t.Errorf("attempts = %d, want 4", got)
	}
	attempts.Store(0)
	_, err = c.StopJob(context.Background(), 3)
	if err == nil || IsOutcomeUnknown(err) {
		t.Errorf("StopJob against a closed port = %v, want a failure with a known outcome", err)
	}
	if got := strings.Count(err.Error(), "/prefix/acme/api/jobs/3"); got != 1 {
		t.Errorf("error %q names the path %d times, want once", err, got)
	}
}

func TestStopJobIsNotRetried(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	var calls atomic.Int32
	mux.HandleFunc("DELETE /prefix/acme/api/jobs/3", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, http.StatusBadGateway, `{"message": "bad gateway"}`)
	})
	_, err := c.StopJob(context.Background(), 3)
	if !IsOutcomeUnknown(err) {
		t.Errorf("StopJob = %v, want an unknown outcome", err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("calls = %d, want 1", got)
	}
}

// TestNoSecretInErrors drives the client through every failure it can meet
// and checks that neither the API key nor its Basic credentials show up.
func TestNoSecretInErrors(t *testing.T) {
	creds := base64.StdEncoding.EncodeToString([]byte(testKey + ":"))
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			// A misbehaving proxy that echoes the request.
			writeJSON(w, status, fmt.Sprintf(`{"message": "bad key %s, header %q, user %s"}`, testKey, r.Header.Get("Authorization"), testKey))
		}
	}
	var stolen atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			stolen.Store(a)
		}
		writeJSON(w, http.StatusUnauthorized, `{"message": "who are you"}`)
	}))
	defer other.Close()

	c, mux, _ := newTestClient(t, Config{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	mux.HandleFunc("/prefix/acme/api/jobs/1", echo(401))
	mux.HandleFunc("/prefix/acme/api/jobs/2", echo(500))
	mux.HandleFunc("/prefix/acme/api/jobs/3", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 502, "<html>"+r.Header.Get("Authorization")+strings.Repeat(" ", 300)+testKey+"</html>")
	})
	mux.HandleFunc("/prefix/acme/api/jobs/4", func(w http.ResponseWriter, r *http.Request) { hangUp(t, w) })
	mux.HandleFunc("/prefix/acme/api/jobs/5", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/prefix/acme/api/jobs/6", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id": "`+testKey+`"}`)
	})
	mux.HandleFunc("/prefix/acme/api/jobs/7", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	mux.HandleFunc("/prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 201, `{"id": 1, "errors": [`+strings.Repeat(`"`+testKey+`",`, 3)+`1}`)
	})

	ctx := context.Background()
	var errs []error
	for id := int64(1); id <= 7; id++ {
		_, err := c.GetJob(ctx, id)
		errs = append(errs, err)
		_, err = c.StopJob(ctx, id)
		errs = append(errs, err)
		_, err = c.JobLog(ctx, id)
		errs = append(errs, err)
	}
	_, err := c.RunJob(ctx, RunRequest{ClusterID: 1, PackageID: 2})
	errs = append(errs, err)
	_, err = c.RunJob(ctx, RunRequest{ClusterID: 1, PackageID: 2, Variables: map[string]string{"bad name": testKey}})
	errs = append(errs, err)
	_, err = c.NextJobs(ctx, &JobPage{NextURL: "http://" + testKey + ":" + testKey + "@evil.example/x"})
	errs = append(errs, err)
	_, err = c.NextJobs(ctx, &JobPage{NextURL: other.URL + "/?key=" + testKey})
	errs = append(errs, err)
	_, err = New(Config{AccountID: "acme", APIKey: testKey + ":x"})
	errs = append(errs, err)
	_, err = New(Config{BaseURL: "https://x:" + testKey + "@h/", AccountID: "acme", APIKey: testKey})
	errs = append(errs, err)

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	c2, err := New(Config{BaseURL: closed.URL, AccountID: "acme", APIKey: testKey, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.GetJob(ctx, 1)
	errs = append(errs, err)
	_, err = c2.RunJob(ctx, RunRequest{ClusterID: 1, PackageID: 2})
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%v", errors.Unwrap(err))} {
			if strings.Contains(s, testKey) || strings.Contains(s, creds) {
				t.Errorf("case %d: error text holds the secret: %s", i, s)
			}
		}
	}
	if a, _ := stolen.Load().(string); a != "" {
		t.Errorf("a redirect carried the Authorization header to another host")
	}
	cfg := Config{AccountID: "acme", APIKey: testKey}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprint(c), fmt.Sprintf("%+v", c)} {
		if strings.Contains(s, testKey) || strings.Contains(s, creds) {
			t.Errorf("printing the config or client shows the key: %s", s)
		}
	}
}

// The server's message is kept whole inside the error (a secret echoed
// across any length limit, or holding two spaces, stays findable by the
// caller's scrubbing), and Error(), which logs print, never carries it.
func TestErrorKeepsTheRawMessageOutOfErrorText(t *testing.T) {
	secret := "hunter2  with  spaces"
	msg := strings.Repeat("x", 190) + " bad value " + secret + " for DB_PASSWORD\n\tsee docs"
	c, mux, _ := newTestClient(t, Config{MaxAttempts: 1})
	mux.HandleFunc("/prefix/acme/api/jobs/9", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnprocessableEntity, fmt.Sprintf(`{"message": %q}`, msg)) // ASCII: %q is JSON
	})
	_, err := c.GetJob(context.Background(), 9)
	var er *ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("error %v is not an *ErrorResponse", err)
	}
	if got := er.ServerMessage(); got != msg {
		t.Errorf("ServerMessage() = %q, want the server's text unchanged", got)
	}
	if s := err.Error(); strings.Contains(s, "hunter2") || strings.Contains(s, "xxxx") || !strings.Contains(s, "422") {
		t.Errorf("Error() = %q, want the status without the server's text", s)
	}
}
