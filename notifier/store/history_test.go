package store

import (
	"context"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/xplenty"
)

// newClockStore is a store on a clock the test moves.
func newClockStore(t *testing.T, now *time.Time) *Store {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	s, err := New(rdb, Options{Prefix: prefix, Now: func() time.Time { return *now }, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// endJob tracks a job of package 434 on cluster 52 and observes it end
// with status after runtime seconds.
func endJob(t *testing.T, s *Store, id int64, status xplenty.Status, runtime int64) {
	t.Helper()
	ctx := context.Background()
	if err := s.Track(ctx, testRecord(id)); err != nil {
		t.Fatal(err)
	}
	for _, st := range []xplenty.Status{xplenty.StatusRunning, status} {
		if _, err := s.Observe(ctx, xplenty.Job{ID: id, Status: st, ClusterID: 52, PackageID: 434, RuntimeInSeconds: runtime}); err != nil {
			t.Fatal(err)
		}
	}
}

// The history of a package on a cluster keeps the last 20 ends, newest
// first, expiring like finished records; a replayed end is not pushed again.
func TestHistoryIsBoundedNewestFirstAndExpires(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	s := newClockStore(t, &now)
	for i := range int64(25) {
		now = now.Add(time.Minute)
		st := xplenty.StatusCompleted
		if i == 24 {
			st = xplenty.StatusFailed
		}
		endJob(t, s, 1001+i, st, 60+i)
	}
	// Replayed: the job has ended, nothing is pushed.
	if ch, err := s.Observe(ctx, xplenty.Job{ID: 1025, Status: xplenty.StatusFailed, ClusterID: 52, PackageID: 434, RuntimeInSeconds: 84}); err != nil || ch != Unchanged {
		t.Fatalf("replayed end: %v, %v", ch, err)
	}
	h, err := s.History(ctx, 52, 434)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != historyLen {
		t.Fatalf("history holds %d entries, want %d", len(h), historyLen)
	}
	if h[0].JobID != 1025 || h[0].Status != xplenty.StatusFailed || h[0].Runtime != 84*time.Second || !h[0].Finished.Equal(now) {
		t.Errorf("newest entry = %+v", h[0])
	}
	if h[19].JobID != 1006 {
		t.Errorf("oldest entry kept = job %d, want 1006", h[19].JobID)
	}
	if usual, n := UsualRuntime(h); n != 19 || usual != 74*time.Second {
		t.Errorf("UsualRuntime = %v over %d, want 74s over the 19 completed", usual, n)
	}
	ttl, _ := s.rdb.TTL(ctx, s.keys.History(52, 434)).Result()
	if ttl <= 0 || ttl > time.Hour {
		t.Errorf("history TTL = %v, want (0, 1h]", ttl)
	}
	if other, _ := s.History(ctx, 53, 434); len(other) != 0 {
		t.Errorf("another cluster's history = %v, want none", other)
	}
}

func TestUsualRuntimeIsTheMedianOfCompletedRuns(t *testing.T) {
	h := []HistoryEntry{
		{Status: xplenty.StatusCompleted, Runtime: 10 * time.Minute},
		{Status: xplenty.StatusFailed, Runtime: time.Minute},
		{Status: xplenty.StatusCompleted, Runtime: 14 * time.Minute},
		{Status: xplenty.StatusStopped, Runtime: 2 * time.Hour},
		{Status: xplenty.StatusCompleted, Runtime: 30 * time.Minute},
		{Status: xplenty.StatusCompleted, Runtime: 16 * time.Minute},
	}
	if usual, n := UsualRuntime(h); usual != 15*time.Minute || n != 4 {
		t.Errorf("UsualRuntime = %v over %d, want 15m over 4", usual, n)
	}
	if usual, n := UsualRuntime(nil); usual != 0 || n != 0 {
		t.Errorf("UsualRuntime(nil) = %v, %d", usual, n)
	}
}

// status_since is set when a job is tracked and moved when its status
// changes, not when only its progress does.
func TestStatusSince(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	now := t0
	s := newClockStore(t, &now)
	if err := s.Track(ctx, testRecord(1001)); err != nil {
		t.Fatal(err)
	}
	since := func() time.Time {
		r, err := s.Get(ctx, 1001)
		if err != nil {
			t.Fatal(err)
		}
		return r.StatusSince
	}
	if got := since(); !got.Equal(t0) {
		t.Errorf("StatusSince after Track = %v, want %v", got, t0)
	}
	now = t0.Add(time.Minute)
	_, _ = s.Observe(ctx, xplenty.Job{ID: 1001, Status: xplenty.StatusRunning, Progress: 0.1})
	now = t0.Add(5 * time.Minute)
	_, _ = s.Observe(ctx, xplenty.Job{ID: 1001, Status: xplenty.StatusRunning, Progress: 0.5})
	if got := since(); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("StatusSince while running = %v, want when it started running", got)
	}
}

// The preset's max runtime travels with the record.
func TestMaxRuntimeIsRecorded(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	r := testRecord(1001)
	r.MaxRuntime = 90 * time.Minute
	if err := s.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, 1001)
	if err != nil || got.MaxRuntime != 90*time.Minute {
		t.Errorf("MaxRuntime = %v, %v; want 1h30m", got.MaxRuntime, err)
	}
	w, err := s.Watching(ctx, 10)
	if err != nil || len(w) != 1 || w[0].MaxRuntime != 90*time.Minute || w[0].ClusterID != 52 || w[0].PackageID != 434 {
		t.Errorf("Watching = %+v, %v", w, err)
	}
}

// A note is queued once per job and note, and only while the job is in the
// status it is about.
func TestNoteIsQueuedOnce(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t)
	if err := s.Track(ctx, testRecord(1001)); err != nil {
		t.Fatal(err)
	}
	_, _ = s.Observe(ctx, xplenty.Job{ID: 1001, Status: xplenty.StatusRunning})
	if ok, err := s.Note(ctx, 1001, job.StatusQueuedLong, xplenty.StatusQueued, time.Hour); err != nil || ok {
		t.Errorf("note about a status the job left: %v, %v; want not queued", ok, err)
	}
	for i, want := range []bool{true, false} {
		if ok, err := s.Note(ctx, 1001, job.StatusSlow, xplenty.StatusRunning, 2*time.Hour); err != nil || ok != want {
			t.Errorf("note %d: %v, %v; want %v", i, ok, err, want)
		}
	}
	if got := outbox(t, s, rdb); !equal(got, []string{"reply:slow"}) {
		t.Errorf("outbox = %v", got)
	}
	if d, err := s.Noted(ctx, 1001, job.StatusSlow); err != nil || d != 2*time.Hour {
		t.Errorf("Noted = %v, %v", d, err)
	}
	w, _ := s.Watching(ctx, 10)
	if len(w) != 1 || !w[0].Noted[job.StatusSlow] || w[0].Noted[job.StatusQueuedLong] {
		t.Errorf("Watching = %+v", w)
	}
}
