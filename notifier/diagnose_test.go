package notifier

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// noSummary is an Xplenty client whose log summaries cannot be read.
type noSummary struct{ *xplenty.Client }

func (noSummary) GetJobWithLogSummary(context.Context, int64) (*xplenty.Job, error) {
	return nil, errors.New("connection reset")
}

// A followed job seen failed gets Xplenty's log summary, asked once and
// kept scrubbed on its record before its end is recorded (the reply reads
// it); a summary that cannot be read delays and loses nothing.
func TestWatcherKeepsTheFailureSummary(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		unreadble bool
	}{{"summary read", false}, {"summary call fails", true}} {
		t.Run(tc.name, func(t *testing.T) {
			xs := xplentytest.New(xplentytest.Options{})
			t.Cleanup(xs.Close)
			client, err := xplenty.New(xplenty.Config{BaseURL: xs.URL(), AccountID: xs.AccountID(), APIKey: xs.APIKey()})
			if err != nil {
				t.Fatal(err)
			}
			var src JobSource = client
			if tc.unreadble {
				src = noSummary{client}
			}
			s, rdb := newTestStore(t)
			j, err := xs.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DB_PASSWORD": "hunter2"}})
			if err != nil {
				t.Fatal(err)
			}
			r := testRecord(j.ID)
			r.SecretNames = []string{"DB_PASSWORD"}
			if err := s.Track(ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := xs.SetLogSummary(j.ID, xplenty.LogSummary{ErrorSummary: "login hunter2 refused", ActionItems: []string{"Check the password.", "Retry."}}); err != nil {
				t.Fatal(err)
			}
			if err := xs.SetStatus(j.ID, xplenty.StatusFailed); err != nil {
				t.Fatal(err)
			}
			w := NewWatcher(s, src, WatcherOptions{})
			st, err := w.Tick(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Finished != 1 || st.Calls != 2 {
				t.Fatalf("tick = %+v, want the job finished with two calls (the list, the summary)", st)
			}
			if q := outbox(t, s, rdb); len(q) != 1 || q[0] != "reply:failed" {
				t.Errorf("outbox = %v, want the one failure reply", q)
			}
			got, err := s.Get(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.unreadble && (got.ErrorSummary != "" || got.ActionItems != nil):
				t.Errorf("record keeps summary %q, items %q from a call that failed", got.ErrorSummary, got.ActionItems)
			case !tc.unreadble && (!strings.Contains(got.ErrorSummary, "login") || strings.Contains(got.ErrorSummary, "hunter2") || len(got.ActionItems) != 2):
				t.Errorf("record keeps summary %q, items %q; want it scrubbed, with both items", got.ErrorSummary, got.ActionItems)
			}
			// Seen failed again (a replayed list), it is not asked about again.
			if want, err := s.WantsDiagnosis(ctx, j.ID); err != nil || want {
				t.Errorf("WantsDiagnosis after the end was recorded = %v, %v; want false", want, err)
			}
		})
	}
}

// slowSummary is an Xplenty client whose log summary calls hang until
// their context ends, counting them.
type slowSummary struct {
	*xplenty.Client
	calls int
}

func (s *slowSummary) GetJobWithLogSummary(ctx context.Context, _ int64) (*xplenty.Job, error) {
	s.calls++
	<-ctx.Done()
	return nil, ctx.Err()
}

// When the summary call hangs, the first failed job's reply waits at most
// diagnoseTimeout, and the tick's other failures go out without asking.
func TestWatcherDoesNotWaitOnASlowSummaryTwice(t *testing.T) {
	ctx := context.Background()
	xs := xplentytest.New(xplentytest.Options{})
	t.Cleanup(xs.Close)
	client, err := xplenty.New(xplenty.Config{BaseURL: xs.URL(), AccountID: xs.AccountID(), APIKey: xs.APIKey()})
	if err != nil {
		t.Fatal(err)
	}
	s, rdb := newTestStore(t)
	for i := 0; i < 3; i++ {
		j, err := xs.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Track(ctx, testRecord(j.ID)); err != nil {
			t.Fatal(err)
		}
		if err := xs.SetStatus(j.ID, xplenty.StatusFailed); err != nil {
			t.Fatal(err)
		}
	}
	src := &slowSummary{Client: client}
	st, err := NewWatcher(s, src, WatcherOptions{}).Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Finished != 3 || src.calls != 1 {
		t.Errorf("tick finished %d jobs with %d summary calls; want 3 and 1 (the others do without)", st.Finished, src.calls)
	}
	if q := outbox(t, s, rdb); len(q) != 3 {
		t.Errorf("outbox = %v, want the three failure replies", q)
	}
}
