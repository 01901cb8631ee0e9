package notifier

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// fakeSource is a hand-written JobSource: tests set the functions they need
// and read the calls it counted.
type fakeSource struct {
	mu    sync.Mutex
	list  func(xplenty.ListOptions) (*xplenty.JobPage, error)
	get   func(int64) (*xplenty.Job, error)
	rl    xplenty.RateLimit
	calls []string
	opts  []xplenty.ListOptions
}

func (f *fakeSource) record(c string) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

func (f *fakeSource) ListJobs(_ context.Context, o xplenty.ListOptions) (*xplenty.JobPage, error) {
	f.record("list")
	f.mu.Lock()
	f.opts = append(f.opts, o)
	f.mu.Unlock()
	return f.list(o)
}

func (f *fakeSource) GetJob(_ context.Context, id int64) (*xplenty.Job, error) {
	f.record("get")
	return f.get(id)
}

// GetJobWithLogSummary answers like GetJob (the watcher asks it once for
// a followed job seen failed).
func (f *fakeSource) GetJobWithLogSummary(_ context.Context, id int64) (*xplenty.Job, error) {
	f.record("summary")
	if f.get == nil {
		return nil, errors.New("fakeSource: no job reader")
	}
	return f.get(id)
}

func (f *fakeSource) RateLimit() xplenty.RateLimit { return f.rl }

func at(t time.Time) *time.Time { return &t }

// pager serves jobs (in order of change) as the change list does: those
// changed at or after since (to the second), from offset, 100 to a page;
// NextURL, when there is more, holds the next offset.
func pager(jobs []xplenty.Job) func(xplenty.ListOptions) (*xplenty.JobPage, error) {
	page := func(since time.Time, off int) *xplenty.JobPage {
		var from []xplenty.Job
		for _, j := range jobs {
			if j.UpdatedAt == nil || !j.UpdatedAt.Before(since.Truncate(time.Second)) {
				from = append(from, j)
			}
		}
		off = min(off, len(from))
		end := min(off+xplenty.MaxListLimit, len(from))
		p := &xplenty.JobPage{Jobs: from[off:end]}
		if end < len(from) {
			p.NextURL = strconv.Itoa(end)
		}
		return p
	}
	return func(o xplenty.ListOptions) (*xplenty.JobPage, error) { return page(o.Since, o.Offset), nil }
}

func trackMany(t *testing.T, s *store.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := s.Track(context.Background(), testRecord(int64(1001+i))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTickSpendsNothingWithoutJobs(t *testing.T) {
	s, _ := newTestStore(t)
	src := &fakeSource{}
	w := NewWatcher(s, src, WatcherOptions{Holder: "a"})
	st, err := w.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls != 0 || len(src.calls) != 0 {
		t.Errorf("idle tick made %d calls (%v), want 0", st.Calls, src.calls)
	}
}

// The cost of a tick does not grow with the number of tracked jobs: one
// list call when few changed, plus one page per 100 changes.
func TestTickCostDoesNotGrowWithTrackedJobs(t *testing.T) {
	s, _ := newTestStore(t)
	trackMany(t, s, 1000)
	base := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	changed := []xplenty.Job{
		{ID: 1005, Status: xplenty.StatusRunning, Progress: 0.3, UpdatedAt: at(base)},
		{ID: 1500, Status: xplenty.StatusCompleted, Progress: 1, UpdatedAt: at(base.Add(time.Second))},
		{ID: 99999, Status: xplenty.StatusFailed, UpdatedAt: at(base.Add(2 * time.Second))}, // another tool's job
	}
	src := &fakeSource{}
	src.list = pager(changed)
	w := NewWatcher(s, src, WatcherOptions{Holder: "a"})
	st, err := w.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls != 1 || st.Changes != 2 || st.Finished != 1 || st.Active != 1000 {
		t.Errorf("tick = %+v, want 1 call, 2 changes, 1 finished, 1000 active", st)
	}
	o := src.opts[0]
	if o.Sort != "updated" || o.Direction != "asc" || o.Limit != xplenty.MaxListLimit || o.Since.IsZero() {
		t.Errorf("list options = %+v, want since, sort=updated, direction=asc, limit=100", o)
	}
	since, _, _ := s.Since(context.Background())
	if want := base.Add(2 * time.Second).Add(-2 * time.Second); !since.Equal(want) {
		t.Errorf("high-water mark = %v, want %v (newest updated_at minus overlap)", since, want)
	}

	// 250 changes: three pages, still no per-job calls.
	var many []xplenty.Job
	for i := 0; i < 250; i++ {
		many = append(many, xplenty.Job{ID: int64(1001 + i), Status: xplenty.StatusRunning, UpdatedAt: at(base.Add(time.Minute))})
	}
	src.list = pager(many)
	src.calls = nil
	st, err = w.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls != 3 || st.Pages != 3 {
		t.Errorf("tick over 250 changes = %+v, want 3 calls (3 pages)", st)
	}
}

func TestOnlyTheLeaseHolderPolls(t *testing.T) {
	s, _ := newTestStore(t)
	trackMany(t, s, 3)
	src := &fakeSource{}
	src.list = pager(nil)
	a := NewWatcher(s, src, WatcherOptions{Holder: "a"})
	b := NewWatcher(s, src, WatcherOptions{Holder: "b"})
	for i := 0; i < 3; i++ {
		sa, _ := a.Tick(context.Background())
		sb, _ := b.Tick(context.Background())
		if !sa.Leader || sb.Leader {
			t.Fatalf("round %d: leaders a=%v b=%v, want only a", i, sa.Leader, sb.Leader)
		}
	}
	if len(src.calls) != 3 {
		t.Errorf("two replicas made %d calls in 3 rounds, want 3", len(src.calls))
	}
}

func TestStaleJobIsFetchedOnePerTick(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	s, _ := newTestStoreAt(t, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	trackMany(t, s, 3)
	mu.Lock()
	now = now.Add(time.Hour) // every job now unseen for an hour
	mu.Unlock()
	src := &fakeSource{}
	src.list = pager(nil)
	var got []int64
	src.get = func(id int64) (*xplenty.Job, error) {
		got = append(got, id)
		if id == 1002 {
			return nil, &xplenty.ErrorResponse{StatusCode: 404}
		}
		return &xplenty.Job{ID: id, Status: xplenty.StatusRunning, Progress: 0.5}, nil
	}
	w := NewWatcher(s, src, WatcherOptions{Holder: "a", StaleAfter: time.Minute})
	for i := 0; i < 3; i++ {
		st, err := w.Tick(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Calls != 2 {
			t.Errorf("tick %d made %d calls, want 2 (list + one stale job)", i, st.Calls)
		}
	}
	if len(got) != 3 || got[0] != 1001 || got[1] != 1002 || got[2] != 1003 {
		t.Errorf("stale jobs fetched = %v, want 1001, 1002, 1003 (oldest first, each once)", got)
	}
	r, _ := s.Get(context.Background(), 1001)
	if r.Status != xplenty.StatusRunning {
		t.Errorf("stale refresh did not record the status: %s", r.Status)
	}
}

func TestTickErrorKeepsHighWaterMark(t *testing.T) {
	s, _ := newTestStore(t)
	trackMany(t, s, 1)
	before, _, _ := s.Since(context.Background())
	src := &fakeSource{list: func(xplenty.ListOptions) (*xplenty.JobPage, error) {
		return nil, &xplenty.ErrorResponse{StatusCode: 503}
	}}
	w := NewWatcher(s, src, WatcherOptions{Holder: "a"})
	if _, err := w.Tick(context.Background()); err == nil {
		t.Fatal("tick succeeded on a 503")
	}
	after, _, _ := s.Since(context.Background())
	if !after.Equal(before) {
		t.Errorf("high-water mark moved on failure: %v -> %v", before, after)
	}
}

func TestNextDelay(t *testing.T) {
	const iv = 10 * time.Second
	rl := func(rem int) xplenty.RateLimit { return xplenty.RateLimit{Limit: 5000, Remaining: rem} }
	cases := []struct {
		name        string
		rl          xplenty.RateLimit
		fails       int
		rateLimited bool
		want        time.Duration
	}{
		{"unknown budget", xplenty.RateLimit{}, 0, false, iv},
		{"healthy budget", rl(4000), 0, false, iv},
		{"quarter left", rl(1250), 0, false, 2 * iv},
		{"tenth left", rl(500), 0, false, 4 * iv},
		{"almost none left", rl(50), 0, false, 16 * iv},
		{"one failure", rl(4000), 1, false, iv},
		{"three failures", rl(4000), 3, false, 4 * iv},
		{"many failures capped", rl(4000), 30, false, 640 * time.Second},
		{"429 backs off from a minute", rl(0), 1, true, 160 * time.Second},
		{"429 repeated", rl(0), 3, true, 4 * time.Minute},
		{"never beyond 15 minutes", rl(0), 10, true, 15 * time.Minute},
	}
	for _, c := range cases {
		if got := NextDelay(iv, c.rl, c.fails, c.rateLimited); got != c.want {
			t.Errorf("%s: NextDelay = %v, want %v", c.name, got, c.want)
		}
	}
}

// A leader backing off after a 429 keeps the lease, so the other replicas
// do not poll in its place.
func TestBackoffIsSharedByReplicas(t *testing.T) {
	s, _ := newTestStore(t)
	trackMany(t, s, 1)
	src := &fakeSource{list: func(xplenty.ListOptions) (*xplenty.JobPage, error) {
		return nil, &xplenty.ErrorResponse{StatusCode: 429}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, h := range []string{"a", "b", "c"} {
		w := NewWatcher(s, src, WatcherOptions{Holder: h, Interval: 20 * time.Millisecond})
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.Run(ctx) }()
	}
	time.Sleep(6 * time.Second) // longer than the lease (at least 5 s) without the extension
	cancel()
	wg.Wait()
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.calls) != 1 {
		t.Errorf("%d calls from 3 replicas after a 429, want 1", len(src.calls))
	}
}

// After a complete walk the mark follows the server's clock: a burst of
// changes stamped in one second is not listed again on every tick.
func TestMarkFollowsTheServerClock(t *testing.T) {
	s, _ := newTestStore(t)
	trackMany(t, s, 1)
	burst := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	server := burst.Add(30 * time.Second)
	src := &fakeSource{list: func(xplenty.ListOptions) (*xplenty.JobPage, error) {
		return &xplenty.JobPage{Jobs: []xplenty.Job{{ID: 77, Status: xplenty.StatusRunning, UpdatedAt: at(burst)}}, ServerTime: server}, nil
	}}
	w := NewWatcher(s, src, WatcherOptions{Holder: "a"})
	if _, err := w.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	since, _, _ := s.Since(context.Background())
	if want := server.Add(-2 * time.Second); !since.Equal(want) {
		t.Errorf("mark = %v, want %v (the server's time less the overlap)", since, want)
	}
}
