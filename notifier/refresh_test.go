package notifier

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func countOf(kinds []string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}

// One job that Xplenty answers 403 for, forever, must not stall the others:
// every tick succeeds (so the watcher keeps its interval), the other job's
// end is reported, and the bad job is given up once, with its own note.
func TestOneUnreadableJobDoesNotStallTheOthers(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	xs := xplentytest.New(xplentytest.Options{Now: clk.Now})
	t.Cleanup(xs.Close)
	good, _ := xs.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434})
	bad, _ := xs.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434})
	badPath := "/" + xs.AccountID() + "/api/jobs/" + "1002"
	var badGets int
	var mu sync.Mutex
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == badPath {
			mu.Lock()
			badGets++
			mu.Unlock()
			w.Header().Set("Content-Type", "application/vnd.xplenty+json; version=2")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message": "You are not allowed to see job 1002 (DB_PASSWORD=hunter2)"}`))
			return
		}
		// The server's clock is the test's, so the mark moves with it.
		w.Header().Set("Date", clk.Now().Format(http.TimeFormat))
		xs.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	if bad.ID != 1002 {
		t.Fatalf("bad job id = %d, want 1002", bad.ID)
	}
	xp, err := xplenty.New(xplenty.Config{BaseURL: front.URL + "/", AccountID: xs.AccountID(), APIKey: xs.APIKey(),
		RetryBase: time.Millisecond, RetryMax: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s, rdb := newTestStoreAt(t, clk.Now)
	for _, id := range []int64{good.ID, bad.ID} {
		r := testRecord(id)
		r.CreatedAt = clk.Now()
		r.HTMLURL = "https://app.xplenty.com/acme/jobs/" + "1002"
		if err := s.Track(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	const interval = 10 * time.Second
	w := NewWatcher(s, xp, WatcherOptions{Holder: "a", Interval: interval, StaleAfter: 10 * time.Minute})
	var failed, gaveUp int
	for i := 0; i < 3*store.UnreadableAfter; i++ {
		clk.Add(3 * time.Hour) // past any job's backoff: each tick reads one stale job
		if i == 4 {
			if err := xs.SetStatus(good.ID, xplenty.StatusCompleted); err != nil {
				t.Fatal(err)
			}
		}
		st, err := w.Tick(ctx)
		if err != nil {
			t.Fatalf("tick %d failed: %v (one unreadable job stalls every job)", i, err)
		}
		if d := NextDelay(interval, xp.RateLimit(), 0, false); d != interval {
			t.Fatalf("tick %d: next delay = %v, want the interval %v", i, d, interval)
		}
		failed += st.ReadFailed
		gaveUp += st.GaveUp
	}
	kinds := outbox(t, s, rdb)
	if n := countOf(kinds, "reply:completed"); n != 1 {
		t.Errorf("outbox = %v, want one completed reply for the good job", kinds)
	}
	if n := countOf(kinds, "reply:unreadable"); n != 1 {
		t.Errorf("outbox = %v, want one unreadable note for the bad job", kinds)
	}
	if failed != store.UnreadableAfter || gaveUp != 1 || badGets != store.UnreadableAfter {
		t.Errorf("read failures = %d, given up = %d, GETs of the bad job = %d; want %d, 1, %d",
			failed, gaveUp, badGets, store.UnreadableAfter, store.UnreadableAfter)
	}
	if n, _ := s.ActiveCount(ctx); n != 0 {
		t.Errorf("%d jobs still followed, want 0", n)
	}
	if ttl, _ := rdb.TTL(ctx, s.Keys().Job(bad.ID)).Result(); ttl <= 0 {
		t.Errorf("the given-up record does not expire (ttl %v)", ttl)
	}

	// The note says why, without what Xplenty wrote.
	r, err := s.Get(ctx, bad.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, reason, err := s.ReadFailures(ctx, r.JobID)
	if err != nil {
		t.Fatal(err)
	}
	msg := render.UnreadableNote(r, n, reason, render.Ping)
	for _, want := range []string{"Job 1002", "unreadable", "6 times in a row", "HTTP 403 Forbidden", "stopped following it", "https://app.xplenty.com/acme/jobs/1002"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("note %q lacks %q", msg.Text, want)
		}
	}
	if strings.Contains(msg.Text, "hunter2") {
		t.Errorf("note repeats Xplenty's text: %q", msg.Text)
	}
}

// A failed read of a job is that job's when Xplenty answered about it; a
// spent budget, a refused key or no answer at all are everyone's, and the
// watcher backs off as a whole.
func TestRefreshFailureClasses(t *testing.T) {
	undecodable := func() error {
		// A real undecodable answer, through the client.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id": 1001, "progress": "half"}`))
		}))
		defer srv.Close()
		xp, _ := xplenty.New(xplenty.Config{BaseURL: srv.URL + "/", AccountID: "acme", APIKey: "k"})
		_, err := xp.GetJob(context.Background(), 1001)
		return err
	}()
	cases := []struct {
		name     string
		err      error
		tickFail bool
	}{
		{"403", &xplenty.ErrorResponse{StatusCode: 403}, false},
		{"500", &xplenty.ErrorResponse{StatusCode: 500}, false},
		{"503", &xplenty.ErrorResponse{StatusCode: 503}, false},
		{"undecodable answer", undecodable, false},
		{"429", &xplenty.ErrorResponse{StatusCode: 429}, true},
		{"401", &xplenty.ErrorResponse{StatusCode: 401}, true},
		{"no answer", errors.New("xplenty: GET /acme/api/jobs/1001: connection refused"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := &testClock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
			s, _ := newTestStoreAt(t, clk.Now)
			trackMany(t, s, 1)
			clk.Add(time.Hour)
			src := &fakeSource{get: func(int64) (*xplenty.Job, error) { return nil, c.err }}
			src.list = pager(nil)
			w := NewWatcher(s, src, WatcherOptions{Holder: "a", StaleAfter: 10 * time.Minute})
			st, err := w.Tick(context.Background())
			if (err != nil) != c.tickFail {
				t.Fatalf("tick error = %v, want failure %v", err, c.tickFail)
			}
			if want := map[bool]int{true: 0, false: 1}[c.tickFail]; st.ReadFailed != want {
				t.Errorf("ReadFailed = %d, want %d", st.ReadFailed, want)
			}
		})
	}
}

// A job that failed to read goes to the back: the next stale refresh reads
// the others, and its own waits longer after each failure; a successful
// observation clears its count.
func TestUnreadableJobBacksOffAlone(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	s, rdb := newTestStoreAt(t, clk.Now)
	trackMany(t, s, 2) // 1001, 1002, seen at the same time
	clk.Add(time.Hour)
	var got []int64
	src := &fakeSource{get: func(id int64) (*xplenty.Job, error) {
		got = append(got, id)
		if id == 1001 {
			return nil, &xplenty.ErrorResponse{StatusCode: 503}
		}
		return &xplenty.Job{ID: id, Status: xplenty.StatusRunning}, nil
	}}
	src.list = pager(nil)
	const stale = 10 * time.Minute
	w := NewWatcher(s, src, WatcherOptions{Holder: "a", StaleAfter: stale})
	for i := 0; i < 2; i++ {
		if _, err := w.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, []int64{1001, 1002}) {
		t.Errorf("reads = %v, want 1001 (fails), then 1002 (not 1001 again)", got)
	}

	// Alone, its reads come further apart after each failure.
	if _, err := s.Observe(ctx, xplenty.Job{ID: 1002, Status: xplenty.StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	due := func() time.Duration {
		score, err := rdb.ZScore(ctx, s.Keys().Active(), "1001").Result()
		if err != nil {
			t.Fatal(err)
		}
		return time.UnixMilli(int64(score)).Add(stale).Sub(clk.Now())
	}
	if d := due(); d != stale {
		t.Errorf("after failure 1 job 1001 is due in %v, want %v", d, stale)
	}
	for i, want := range []time.Duration{2 * stale, 4 * stale, 8 * stale, store.MaxRefreshBackoff} {
		clk.Add(due())
		if _, err := w.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if d := due(); d != want {
			t.Errorf("after failure %d job 1001 is due in %v, want %v", i+2, d, want)
		}
	}
	if _, err := s.Observe(ctx, xplenty.Job{ID: 1001, Status: xplenty.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.HExists(ctx, s.Keys().Job(1001), "read_failures").Result(); n {
		t.Error("a successful observation left the failure count")
	}
}

// A job of the change list that does not decode is skipped and counted;
// the others are applied and the mark moves.
func TestUndecodableListedJobIsSkipped(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	trackMany(t, s, 1)
	server := time.Date(2026, 11, 28, 12, 0, 30, 0, time.UTC)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Date", server.Format(http.TimeFormat))
		_, _ = w.Write([]byte(`[{"id": 77, "status": "running", "progress": 1e400},
			{"id": 1001, "status": "completed", "progress": 1, "updated_at": "2026-11-28T12:00:00Z"}]`))
	}))
	t.Cleanup(front.Close)
	xp, err := xplenty.New(xplenty.Config{BaseURL: front.URL + "/", AccountID: "acme", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(s, xp, WatcherOptions{Holder: "a"})
	st, err := w.Tick(ctx)
	if err != nil {
		t.Fatalf("tick failed: %v (one odd job stops all tracking)", err)
	}
	if st.Undecodable != 1 || st.Finished != 1 {
		t.Errorf("tick = %+v, want 1 undecodable and 1 finished", st)
	}
	since, _, _ := s.Since(ctx)
	if want := server.Add(-2 * time.Second); !since.Equal(want) {
		t.Errorf("mark = %v, want %v", since, want)
	}
}
