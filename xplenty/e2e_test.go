package xplenty_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The client against the fake, served under a non-empty base path so that
// any absolute path in the client misses it.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

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

func setup(t *testing.T, opts xplentytest.Options, cfg xplenty.Config) (*xplenty.Client, *xplentytest.Server) {
	t.Helper()
	if opts.BasePath == "" {
		opts.BasePath = "/xplenty/v2/"
	}
	s := xplentytest.New(opts)
	t.Cleanup(s.Close)
	cfg.BaseURL = s.URL()
	cfg.AccountID = s.AccountID()
	if cfg.APIKey == "" {
		cfg.APIKey = s.APIKey()
	}
	cfg.RetryBase = time.Millisecond
	cfg.RetryMax = 2 * time.Millisecond
	if cfg.UserAgent == "" {
		cfg.UserAgent = "runjob/test"
	}
	c, err := xplenty.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func TestEndToEnd(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	c, s := setup(t, xplentytest.Options{Now: clk.Now, Budget: 100}, xplenty.Config{})
	ctx := context.Background()

	job, err := c.RunJob(ctx, xplenty.RunRequest{
		ClusterID: 52, PackageID: 434,
		Variables:        map[string]string{"DATE": "2026-11-01", "Q": "a&b=c"},
		DynamicVariables: map[string]string{"NOW": "CurrentTime()"},
	})
	if err != nil {
		t.Fatalf("RunJob: %v", err)
	}
	if job.ID != 1001 || job.Status != xplenty.StatusIdle || job.Variables["Q"] != "a&b=c" || job.DynamicVariables["NOW"] != "CurrentTime()" {
		t.Errorf("run answer = %+v", job)
	}
	if want := c.JobsPageURL() + "/1001"; job.HTMLURL != want {
		t.Errorf("html_url = %q, want %q (JobsPageURL + id)", job.HTMLURL, want)
	}
	if ua := s.Requests()[0].Header.Get("User-Agent"); ua != "runjob/test" {
		t.Errorf("User-Agent = %q", ua)
	}

	clk.Add(time.Minute)
	since := clk.Now()
	s.SetStatus(job.ID, xplenty.StatusRunning)
	s.SetProgress(job.ID, 0.4)
	// Another package's job changes too; the list below filters it out.
	if _, err := s.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 9}); err != nil {
		t.Fatal(err)
	}

	got, err := c.GetJob(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != xplenty.StatusRunning || got.Progress != 0.4 || got.StartedAt == nil || !got.StartedAt.Equal(since) {
		t.Errorf("GetJob = %+v", got)
	}

	page, err := c.ListJobs(ctx, xplenty.ListOptions{Since: since, Sort: "updated", Direction: "asc", PackageID: 434, Limit: xplenty.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Jobs) != 1 || page.Jobs[0].ID != job.ID || page.NextURL != "" {
		t.Errorf("changed since %v: %+v", since, page)
	}

	stopped, err := c.StopJob(ctx, job.ID)
	if err != nil || stopped.Status != xplenty.StatusPendingStoppage {
		t.Fatalf("StopJob = %+v, %v", stopped, err)
	}
	clk.Add(time.Minute)
	s.SetStatus(job.ID, xplenty.StatusStopped)
	if got, _ := c.GetJob(ctx, job.ID); got.Status != xplenty.StatusStopped || got.CompletedAt == nil || got.RuntimeInSeconds != 60 {
		t.Errorf("after the stop: %+v", got)
	}
	_, err = c.StopJob(ctx, job.ID)
	if !xplenty.IsInvalid(err) || xplenty.IsOutcomeUnknown(err) {
		t.Errorf("stopping a stopped job: %v, want a 422", err)
	}

	log, err := c.JobLog(ctx, job.ID)
	if err != nil || !strings.Contains(log.Body, "stopped") {
		t.Errorf("JobLog = %+v, %v", log, err)
	}

	if rl := c.RateLimit(); rl.Limit != 100 || rl.Remaining != s.Remaining() || rl.Remaining != 100-s.RequestCount() {
		t.Errorf("RateLimit = %+v, server remaining %d after %d calls", rl, s.Remaining(), s.RequestCount())
	}
}

func TestEndToEndPaging(t *testing.T) {
	c, s := setup(t, xplentytest.Options{}, xplenty.Config{})
	for range 250 {
		if _, err := s.CreateJob(xplenty.RunRequest{ClusterID: 1, PackageID: 2}); err != nil {
			t.Fatal(err)
		}
	}
	jobs, truncated, err := c.ListAllJobs(context.Background(), xplenty.ListOptions{Limit: 100, Direction: "asc"}, 10)
	if err != nil || truncated || len(jobs) != 250 || jobs[0].ID != 1001 || jobs[249].ID != 1250 {
		t.Fatalf("ListAllJobs = %d jobs, truncated %v, err %v", len(jobs), truncated, err)
	}
	if n := s.RequestCount(); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.Path, "/xplenty/v2/acme/api/jobs") {
			t.Errorf("request to %s, outside the base path", r.Path)
		}
	}
	jobs, truncated, err = c.ListAllJobs(context.Background(), xplenty.ListOptions{}, 2)
	if err != nil || !truncated || len(jobs) != 40 {
		t.Errorf("ListAllJobs(2 pages of 20) = %d jobs, truncated %v, err %v", len(jobs), truncated, err)
	}
}

func TestEndToEndErrors(t *testing.T) {
	ctx := context.Background()
	c, s := setup(t, xplentytest.Options{MissingPackages: []int64{999}}, xplenty.Config{})

	_, err := c.GetJob(ctx, 4242)
	if !xplenty.IsNotFound(err) {
		t.Errorf("GetJob(unknown) = %v, want not found", err)
	}
	_, err = c.RunJob(ctx, xplenty.RunRequest{ClusterID: 1, PackageID: 999})
	var er *xplenty.ErrorResponse
	if !xplenty.IsInvalid(err) || !errors.As(err, &er) || er.ServerMessage() != "Package 999 not found" || xplenty.IsOutcomeUnknown(err) {
		t.Errorf("RunJob(missing package) = %v, want a 422 with the server's message", err)
	}

	bad, _ := setup(t, xplentytest.Options{}, xplenty.Config{APIKey: "wrong-key"})
	if _, err := bad.GetJob(ctx, 1); !xplenty.IsUnauthorized(err) {
		t.Errorf("wrong key: %v, want unauthorized", err)
	}

	// 429 is reported at once, for a read as for a run: retrying spends
	// the budget that only refills over the hour.
	s.SetBudget(0)
	s.ResetRequests()
	if _, err := c.ListJobs(ctx, xplenty.ListOptions{}); !xplenty.IsRateLimited(err) {
		t.Errorf("over budget: %v, want rate limited", err)
	}
	if n := s.RequestCount(); n != 1 {
		t.Errorf("GET attempts over budget = %d, want 1", n)
	}
	if rl := c.RateLimit(); rl.Remaining != 0 {
		t.Errorf("RateLimit after 429 = %+v", rl)
	}
	s.ResetRequests()
	if _, err := c.RunJob(ctx, xplenty.RunRequest{ClusterID: 1, PackageID: 2}); !xplenty.IsRateLimited(err) || xplenty.IsOutcomeUnknown(err) {
		t.Errorf("run over budget: %v, want a plain 429", err)
	}
	if n := s.RequestCount(); n != 1 {
		t.Errorf("POST attempts = %d, want 1", n)
	}

	// 503 twice, then fine: a GET gets through.
	s.SetBudget(5000)
	s.FailNext(2, http.StatusServiceUnavailable, "maintenance")
	s.ResetRequests()
	if _, err := c.ListJobs(ctx, xplenty.ListOptions{}); err != nil {
		t.Errorf("ListJobs through two 503s: %v", err)
	}
	if n := s.RequestCount(); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
}

func TestEndToEndOutcomeUnknown(t *testing.T) {
	ctx := context.Background()
	req := xplenty.RunRequest{ClusterID: 1, PackageID: 2}

	t.Run("answer lost", func(t *testing.T) {
		c, s := setup(t, xplentytest.Options{}, xplenty.Config{})
		s.DropNextAnswers(1)
		_, err := c.RunJob(ctx, req)
		if !xplenty.IsOutcomeUnknown(err) {
			t.Errorf("RunJob = %v, want an unknown outcome", err)
		}
		if n := len(s.Jobs()); n != 1 || s.RequestCount() != 1 {
			t.Errorf("jobs %d, requests %d; want the one job started and no retry", n, s.RequestCount())
		}
	})
	t.Run("gateway error", func(t *testing.T) {
		c, s := setup(t, xplentytest.Options{}, xplenty.Config{})
		s.FailNext(1, http.StatusBadGateway, "Bad Gateway")
		_, err := c.RunJob(ctx, req)
		if !xplenty.IsOutcomeUnknown(err) || s.RequestCount() != 1 {
			t.Errorf("RunJob = %v after %d requests, want an unknown outcome after 1", err, s.RequestCount())
		}
	})
	t.Run("timeout", func(t *testing.T) {
		c, s := setup(t, xplentytest.Options{}, xplenty.Config{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
		s.SetLatency(time.Minute)
		_, err := c.RunJob(ctx, req)
		if !xplenty.IsOutcomeUnknown(err) || s.RequestCount() != 1 {
			t.Errorf("RunJob = %v after %d requests, want an unknown outcome after 1", err, s.RequestCount())
		}
		if n := len(s.Jobs()); n != 1 {
			t.Errorf("jobs = %d: the slow server still ran the job", n)
		}
	})
}

func TestEndToEndLifecycle(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	lc := &xplentytest.Lifecycle{Pending: 5 * time.Second, Running: 5 * time.Second, RunTime: 60 * time.Second, FailureRate: 0.5, Seed: 7}
	c, _ := setup(t, xplentytest.Options{Now: clk.Now, Lifecycle: lc}, xplenty.Config{})
	ctx := context.Background()
	ids := map[int64]bool{}
	for range 10 {
		j, err := c.RunJob(ctx, xplenty.RunRequest{ClusterID: 1, PackageID: 2})
		if err != nil {
			t.Fatal(err)
		}
		ids[j.ID] = true
	}
	// Watch the way the notifier does: one list per tick, since the last.
	final := map[int64]xplenty.Job{}
	last := clk.Now()
	for tick := 0; tick < 20 && len(final) < len(ids); tick++ {
		clk.Add(10 * time.Second)
		page, err := c.ListJobs(ctx, xplenty.ListOptions{Since: last, Sort: "updated", Direction: "asc", Limit: xplenty.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		last = clk.Now()
		for _, j := range page.Jobs {
			if j.Status.Terminal() {
				final[j.ID] = j
			}
		}
	}
	if len(final) != len(ids) {
		t.Fatalf("saw %d of %d jobs finish", len(final), len(ids))
	}
	var failed int
	for _, j := range final {
		switch j.Status {
		case xplenty.StatusFailed:
			failed++
			if j.Errors == "" || j.FailedAt == nil {
				t.Errorf("failed job without errors: %+v", j)
			}
		case xplenty.StatusCompleted:
			if len(j.Outputs) == 0 || j.Outputs[0].ComponentName == "" || j.Outputs[0].RecordsCount == 0 {
				t.Errorf("completed job without outputs: %+v", j)
			}
		}
	}
	if failed == 0 || failed == len(ids) {
		t.Errorf("%d of %d failed, want some", failed, len(ids))
	}
}
