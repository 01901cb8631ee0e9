package notifier

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// clock is a test clock shared by the store and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// watchdogJobs tracks, at t0: 1001 running with a max runtime of 1h;
// 1002 running with none, its package having 5 completed runs of 10 min
// (slow after 30 min); 1003 queued; 1004 pending_stoppage; 1005 running a
// package without history (never slow).
func watchdogJobs(t testing.TB, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	track := func(id int64, run commands.Run, status xplenty.Status) {
		r := job.Record{JobID: id, Channel: "C1", CardTS: "1700000000.000100", Requester: "U1", Run: run}
		if err := s.Track(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Observe(ctx, xplenty.Job{ID: id, Status: status, ClusterID: run.ClusterID, PackageID: run.PackageID, RuntimeInSeconds: 600}); err != nil {
			t.Fatal(err)
		}
	}
	pkg := commands.Run{ClusterID: 52, PackageID: 434}
	for id := int64(901); id <= 905; id++ {
		track(id, pkg, xplenty.StatusRunning)
		if _, err := s.Observe(ctx, xplenty.Job{ID: id, Status: xplenty.StatusCompleted, ClusterID: 52, PackageID: 434, RuntimeInSeconds: 600}); err != nil {
			t.Fatal(err)
		}
	}
	track(1001, commands.Run{ClusterID: 52, PackageID: 434, Preset: "nightly", MaxRuntime: time.Hour}, xplenty.StatusRunning)
	track(1002, pkg, xplenty.StatusRunning)
	track(1003, pkg, xplenty.StatusQueued)
	track(1004, pkg, xplenty.StatusPendingStoppage)
	track(1005, commands.Run{ClusterID: 60, PackageID: 501}, xplenty.StatusRunning)
}

var watchdogOpts = WatchdogOptions{QueuedAfter: 30 * time.Minute, StoppingAfter: 15 * time.Minute, Every: time.Second}

// Each job gets one note per threshold it crosses: the preset's max
// runtime before its usual runtime, three times the usual runtime without
// one, queued and stopping after their configured times. Another replica,
// or this one restarted, notes nothing again; and no tick calls Xplenty
// more than the poll does.
func TestWatchdogNotesOncePerJobAndThreshold(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	clk := &clock{now: t0}
	s, rdb := newTestStoreAt(t, clk.Now)
	watchdogJobs(t, s)
	src := &fakeSource{}
	src.list = pager(nil)
	opts := WatcherOptions{Holder: "a", StaleAfter: 24 * time.Hour, Watchdog: watchdogOpts}
	w := NewWatcher(s, src, opts)
	ctx := context.Background()
	tick := func(w *Watcher, at time.Duration) TickStats {
		t.Helper()
		clk.Set(t0.Add(at))
		src.calls = nil
		st, err := w.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Calls != 1 || len(src.calls) != 1 {
			t.Errorf("tick at +%v made %d calls (%v), want the one list call", at, st.Calls, src.calls)
		}
		return st
	}
	if st := tick(w, 10*time.Minute); st.Noted != 0 {
		t.Errorf("at +10m: %d notes, want none", st.Noted)
	}
	if st := tick(w, 40*time.Minute); st.Noted != 3 {
		t.Errorf("at +40m: %d notes, want 3 (1002 slow, 1003 queued, 1004 stopping)", st.Noted)
	}
	if st := tick(w, 41*time.Minute); st.Noted != 0 {
		t.Errorf("at +41m: %d notes, want none again", st.Noted)
	}
	if st := tick(w, 2*time.Hour); st.Noted != 1 {
		t.Errorf("at +2h: %d notes, want 1 (1001 past its preset's hour)", st.Noted)
	}
	// A restart, and another replica taking over: nothing again.
	if err := s.ReleaseLease(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"a", "b"} {
		o := opts
		o.Holder = h
		if st := tick(NewWatcher(s, src, o), 3*time.Hour); st.Noted != 0 || !st.Leader {
			t.Errorf("watcher %s after the notes: %+v, want leader and no note", h, st)
		}
		if err := s.ReleaseLease(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	got := outbox(t, s, rdb)
	want := map[string]int{"reply:completed": 5, "reply:slow": 2, "reply:queued_long": 1, "reply:stopping_long": 1}
	count := map[string]int{}
	for _, k := range got {
		count[k]++
	}
	if len(count) != len(want) {
		t.Errorf("outbox = %v", got)
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("outbox has %d %s, want %d (all: %v)", count[k], k, n, got)
		}
	}
	if d, _ := s.Noted(ctx, 1001, job.StatusSlow); d != 2*time.Hour {
		t.Errorf("1001 noted after %v, want 2h", d)
	}
}

// Thresholds at 0 are off, and without history a running job is never slow.
func TestWatchdogOffNotesNothing(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	clk := &clock{now: t0}
	s, _ := newTestStoreAt(t, clk.Now)
	watchdogJobs(t, s)
	src := &fakeSource{}
	src.list = pager(nil)
	w := NewWatcher(s, src, WatcherOptions{Holder: "a", StaleAfter: 24 * time.Hour})
	clk.Set(t0.Add(40 * time.Minute))
	st, err := w.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Noted != 1 {
		t.Errorf("%d notes with queued and stopping off, want 1 (1002 slow by its history)", st.Noted)
	}
}

// BenchmarkWatchdogTick measures the Xplenty calls of ticks over 1,000
// followed jobs with the watchdog off and on (every job past a threshold:
// half queued too long, half running past their max runtime): the same
// one list call a tick, since the watchdog reads only Redis. Run it with:
// go test -run '^$' -bench WatchdogTick -benchtime 20x ./notifier/
func BenchmarkWatchdogTick(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
			clk := &clock{now: t0}
			s, _ := newTestStoreAt(b, clk.Now)
			ctx := context.Background()
			for i := range int64(1000) {
				st := xplenty.StatusRunning
				if i%2 == 0 {
					st = xplenty.StatusQueued
				}
				r := job.Record{JobID: 1001 + i, Channel: "C1", CardTS: "1.1", Requester: "U1", Run: commands.Run{ClusterID: 52, PackageID: 434}}
				if on {
					r.MaxRuntime = time.Hour
				}
				if err := s.Track(ctx, r); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Observe(ctx, xplenty.Job{ID: r.JobID, Status: st, ClusterID: 52, PackageID: 434}); err != nil {
					b.Fatal(err)
				}
			}
			src := &fakeSource{}
			src.list = pager(nil)
			opts := WatcherOptions{Holder: "a", StaleAfter: 24 * time.Hour}
			if on {
				opts.Watchdog = watchdogOpts
			}
			w := NewWatcher(s, src, opts)
			calls, notes := 0, 0
			b.ResetTimer()
			for i := range b.N {
				clk.Set(t0.Add(2*time.Hour + time.Duration(i)*time.Minute))
				st, err := w.Tick(ctx)
				if err != nil {
					b.Fatal(err)
				}
				calls += st.Calls
				notes += st.Noted
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/tick")
			b.ReportMetric(float64(notes), "notes")
			if calls != b.N {
				b.Errorf("%d Xplenty calls in %d ticks, want one list call a tick", calls, b.N)
			}
		})
	}
}
