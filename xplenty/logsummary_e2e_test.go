package xplenty_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The log summary and the log, through the client, against the fake.

func TestLogSummaryEndToEnd(t *testing.T) {
	c, s := setup(t, xplentytest.Options{}, xplenty.Config{})
	ctx := context.Background()
	job, err := c.RunJob(ctx, xplenty.RunRequest{ClusterID: 3, PackageID: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(job.ID, xplenty.StatusFailed); err != nil {
		t.Fatal(err)
	}

	got, err := c.GetJobWithLogSummary(ctx, job.ID)
	if err != nil || got.Status != xplenty.StatusFailed || got.LogSummary != nil {
		t.Fatalf("before a summary is set: %+v, %v; want a failed job without one", got, err)
	}

	created := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	want := xplenty.LogSummary{
		ID:           77,
		ErrorSummary: "Source credentials rejected",
		Extract:      "Access denied for user 'etl'@'10.0.3.17' (using password: YES)",
		ActionItems:  []string{"Check the source connection.", "Run the job again."},
		Body:         "ERROR Access denied",
		CreatedAt:    &created,
	}
	if err := s.SetLogSummary(job.ID, want); err != nil {
		t.Fatal(err)
	}
	s.ResetRequests()
	got, err = c.GetJobWithLogSummary(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != job.ID || got.Status != xplenty.StatusFailed || got.LogSummary == nil {
		t.Fatalf("GetJobWithLogSummary = %+v", got)
	}
	sum := *got.LogSummary
	if sum.CreatedAt == nil || !sum.CreatedAt.Equal(created) {
		t.Errorf("created_at = %v, want %v", sum.CreatedAt, created)
	}
	sum.CreatedAt, want.CreatedAt = nil, nil
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("LogSummary = %+v\nwant         %+v", sum, want)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Query.Get("include") != "log_summary" {
		t.Errorf("requests = %+v, want one GET with include=log_summary", reqs)
	}

	plain, err := c.GetJob(ctx, job.ID)
	if err != nil || plain.LogSummary != nil {
		t.Errorf("GetJob = %+v, %v; want no summary without include", plain, err)
	}
	if reqs := s.Requests(); len(reqs) != 2 || len(reqs[1].Query) != 0 {
		t.Errorf("GetJob sent a query: %+v", reqs[len(reqs)-1])
	}
}

func TestJobLogEndToEnd(t *testing.T) {
	c, s := setup(t, xplentytest.Options{}, xplenty.Config{})
	ctx := context.Background()
	job, err := c.RunJob(ctx, xplenty.RunRequest{ClusterID: 3, PackageID: 4})
	if err != nil {
		t.Fatal(err)
	}
	const body = "2026-11-01T09:00:00Z ERROR connect postgres://etl:Zq8vK&w7@db.internal/orders: refused\n"
	if err := s.SetLog(job.ID, body); err != nil {
		t.Fatal(err)
	}
	log, err := c.JobLog(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *log != (xplenty.JobLog{Body: body, URL: job.LogURL}) {
		t.Errorf("JobLog = %+v, want body %q at %q", log, body, job.LogURL)
	}
}
