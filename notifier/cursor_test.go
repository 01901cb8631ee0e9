package notifier

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// changeList is Xplenty's change list: the jobs updated at or after since
// (to the second), oldest change first, 100 to a page by offset (size
// to a page when set: a server may hold a page shorter than asked).
type changeList struct {
	mu     sync.Mutex
	jobs   map[int64]xplenty.Job
	server time.Time
	size   int
}

func (c *changeList) set(j xplenty.Job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobs[j.ID] = j
}

func (c *changeList) page(since time.Time, off int) (*xplenty.JobPage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var all []xplenty.Job
	for _, j := range c.jobs {
		if !j.UpdatedAt.Before(since.Truncate(time.Second)) {
			all = append(all, j)
		}
	}
	slices.SortFunc(all, func(a, b xplenty.Job) int {
		if d := a.UpdatedAt.Compare(*b.UpdatedAt); d != 0 {
			return d
		}
		return int(a.ID - b.ID)
	})
	size := xplenty.MaxListLimit
	if c.size > 0 {
		size = c.size
	}
	end := min(off+size, len(all))
	p := &xplenty.JobPage{ServerTime: c.server}
	if off < end {
		p.Jobs = all[off:end]
	}
	if end < len(all) {
		p.NextURL = "offset=" + strconv.Itoa(end) // the watcher only asks whether there is one
	}
	return p, nil
}

func (c *changeList) source() *fakeSource {
	return &fakeSource{
		list: func(o xplenty.ListOptions) (*xplenty.JobPage, error) { return c.page(o.Since, o.Offset) },
	}
}

// More jobs change in one second than a walk of the change list reads
// (MaxPages pages): the mark cannot move past them, and before the cursor
// every tick read the same first pages again, so the later jobs were never
// seen. Now the next walk goes on from where the last one stopped (less 2
// jobs read again), a job of the pages read that changes again is not
// skipped, and once the list's end is reached the mark follows the
// server's clock again.
func TestWalkGoesOnPastAChangeBurstLongerThanOneWalk(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	const n = 450
	trackMany(t, s, n)
	burst := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	list := &changeList{jobs: map[int64]xplenty.Job{}, server: burst.Add(time.Second)}
	for i := range n {
		list.set(xplenty.Job{ID: int64(1001 + i), Status: xplenty.StatusRunning, Progress: 0.5, UpdatedAt: at(burst)})
	}
	if err := s.SetSince(ctx, burst.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	src := list.source()
	w := NewWatcher(s, src, WatcherOptions{Holder: "a", MaxPages: 2})

	st, err := w.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pages != 2 {
		t.Fatalf("first walk read %d pages, want 2 (its limit)", st.Pages)
	}
	// Page 1 held jobs 0-99, all changed in the burst's second; page 2 was
	// asked for from that second, offset 98 (two read again), and held
	// 98-197: the next walk begins there, at 196.
	cur, _, _ := s.Cursor(ctx)
	if want := (store.Cursor{Since: burst, Offset: 196}); cur != want {
		t.Fatalf("cursor after a cut walk = %+v, want %+v (the burst's second, past what was read, less the margin)", cur, want)
	}
	// Job 1001, read in the first walk, completes before the next: it goes
	// to the end of the list, and the rest move up one place.
	list.set(xplenty.Job{ID: 1001, Status: xplenty.StatusCompleted, Progress: 1, UpdatedAt: at(burst.Add(time.Second))})

	for i := 0; i < 5; i++ {
		list.mu.Lock()
		list.server = list.server.Add(time.Second) // the server's clock goes on
		list.mu.Unlock()
		if _, err := w.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wantSeen(t, s, n, 1001, 0.5, "seen by a walk")
	cur, _, _ = s.Cursor(ctx)
	if want := (store.Cursor{Since: list.server.Add(-2 * time.Second)}); cur != want {
		t.Errorf("cursor after the list's end = %+v, want %+v (the server's clock less the overlap, no offset)", cur, want)
	}
}

// The cursor's offset is kept beside the mark, for that mark only: a mark
// moved by anything else (Track, an older version of the bot that knows
// no offset) drops it.
func TestCursorRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t)
	mark := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	if err := s.SetCursor(ctx, store.Cursor{Since: mark, Offset: 900}); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := s.Cursor(ctx); err != nil || !ok || c != (store.Cursor{Since: mark, Offset: 900}) {
		t.Fatalf("cursor = %+v %v %v", c, ok, err)
	}
	if since, _, _ := s.Since(ctx); !since.Equal(mark) {
		t.Errorf("since = %v, want %v", since, mark)
	}
	// An older replica moves the mark the way it always did.
	rdb.Set(ctx, s.Keys().Since(), "2026-11-28T12:00:05Z", 0)
	if c, _, err := s.Cursor(ctx); err != nil || c.Offset != 0 || !c.Since.Equal(mark.Add(5*time.Second)) {
		t.Errorf("mark moved by another = %+v %v, want 12:00:05 offset 0", c, err)
	}
	if err := s.SetSince(ctx, mark); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, s.Keys().Offset()).Result(); n != 0 {
		t.Error("SetSince left an offset behind")
	}
	rdb.Set(ctx, s.Keys().Since(), "garbage", 0)
	if _, _, err := s.Cursor(ctx); !errors.Is(err, store.ErrBadMark) {
		t.Errorf("an unreadable mark read as %v, want ErrBadMark", err)
	}
}

// A mark that cannot be read, or lies far in the future, would stop the
// watcher for good (Track moves it only while nothing is followed): the
// tick sets it back to a minute before the oldest followed job and polls.
func TestBrokenMarkIsRepaired(t *testing.T) {
	for name, bad := range map[string]string{
		"unreadable": "garbage",
		"future":     time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, rdb := newTestStore(t)
			trackMany(t, s, 3) // created 2026-11-28 10:00 (testRecord)
			rdb.Set(ctx, s.Keys().Since(), bad, 0)
			src := &fakeSource{}
			src.list = pager(nil)
			w := NewWatcher(s, src, WatcherOptions{Holder: "a"})
			if _, err := w.Tick(ctx); err != nil {
				t.Fatalf("tick with a %s mark: %v", name, err)
			}
			want := time.Date(2026, 11, 28, 9, 59, 0, 0, time.UTC)
			if len(src.opts) != 1 || !src.opts[0].Since.Equal(want) {
				t.Fatalf("list options = %+v, want one list since %v", src.opts, want)
			}
		})
	}
}

// A server may answer fewer jobs than asked and still link a next page.
// The walk cut short went on at pages × 100, past jobs it never read: the
// offset counts the list's entries read, not pages.
func TestWalkCutShortCountsTheEntriesOfShortPages(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	const n = 300
	trackMany(t, s, n)
	burst := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	list := &changeList{jobs: map[int64]xplenty.Job{}, server: burst.Add(time.Second), size: 50}
	for i := range n {
		list.set(xplenty.Job{ID: int64(1001 + i), Status: xplenty.StatusCompleted, Progress: 1, UpdatedAt: at(burst)})
	}
	if err := s.SetSince(ctx, burst.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(s, list.source(), WatcherOptions{Holder: "a", MaxPages: 3})
	for range 8 {
		if _, err := w.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wantSeen(t, s, n, 0, -1, "every job of the list read")
}

// A walk cut short whose pages held only jobs that do not decode (another
// tool's) kept its cursor, and the next walk read the same pages again.
func TestWalkCutShortOnUndecodableJobsGoesOn(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	trackMany(t, s, 1)
	since := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	if err := s.SetSince(ctx, since); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{
		list: func(o xplenty.ListOptions) (*xplenty.JobPage, error) {
			if o.Offset > 0 {
				return nil, errors.New("503")
			}
			p := &xplenty.JobPage{NextURL: "next"}
			for i := range xplenty.MaxListLimit {
				p.Undecodable = append(p.Undecodable, xplenty.UndecodableJob{Index: i, ID: int64(5000 + i), Err: errors.New("odd")})
			}
			return p, nil
		},
	}
	w := NewWatcher(s, src, WatcherOptions{Holder: "a"})
	if _, err := w.Tick(ctx); err == nil {
		t.Fatal("tick with a failed page: no error")
	}
	if c, _, _ := s.Cursor(ctx); c != (store.Cursor{Since: since, Offset: xplenty.MaxListLimit}) {
		t.Fatalf("cursor = %+v, want the same mark, past the page read", c)
	}
}

// A job that changes during a walk moves to the end of the list. With
// pages asked for by offset from the walk's start, every job after it
// moved up one place, and the first job of the next page, now on the page
// already read, was never listed; the mark then moved past it at the
// list's end. Each page is now asked for from where the one before ended.
func TestAJobChangingDuringAWalkHidesNoOther(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	const n = 150
	trackMany(t, s, n)
	start := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	list := &changeList{jobs: map[int64]xplenty.Job{}, server: start.Add(10 * time.Second)}
	for i := range n { // one change every 100 ms: 10 jobs a second
		list.set(xplenty.Job{ID: int64(1001 + i), Status: xplenty.StatusRunning, Progress: 0.5, UpdatedAt: at(start.Add(time.Duration(i) * 100 * time.Millisecond))})
	}
	list.set(xplenty.Job{ID: 1101, Status: xplenty.StatusCompleted, Progress: 1, UpdatedAt: at(start.Add(10 * time.Second))})
	if err := s.SetSince(ctx, start.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	src := list.source()
	pages := 0
	// Between page 1 and page 2, the first
	// job of page 1 and one of its last second move on.
	moveOn := func() {
		if pages++; pages == 2 {
			list.set(xplenty.Job{ID: 1001, Status: xplenty.StatusRunning, Progress: 0.6, UpdatedAt: at(start.Add(11 * time.Second))})
			list.set(xplenty.Job{ID: 1099, Status: xplenty.StatusRunning, Progress: 0.6, UpdatedAt: at(start.Add(11 * time.Second))})
		}
	}
	list1 := src.list
	src.list = func(o xplenty.ListOptions) (*xplenty.JobPage, error) { moveOn(); return list1(o) }
	w := NewWatcher(s, src, WatcherOptions{Holder: "a"})
	if _, err := w.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	wantSeen(t, s, n, 1101, -1, "no job hidden by one that moved")
}

// wantSeen checks that jobs 1001 to 1000+n were seen as the change list
// has them: every one completed when done is 0; otherwise done completed
// and every other one running, at progress unless it is negative.
func wantSeen(t *testing.T, s *store.Store, n int, done int64, progress float64, why string) {
	t.Helper()
	for i := range n {
		id := int64(1001 + i)
		r, err := s.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if done == 0 || id == done {
			if r.Status != xplenty.StatusCompleted {
				t.Fatalf("job %d = %s, want completed (%s)", id, r.Status, why)
			}
		} else if r.Status != xplenty.StatusRunning || (progress >= 0 && r.Progress != progress) {
			t.Fatalf("job %d = %s %.1f, want running (%s)", id, r.Status, r.Progress, why)
		}
	}
}
