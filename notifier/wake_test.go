package notifier

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// settleWakes lets several wake gaps pass, so that a poll the watcher
// should not make would have been made.
func settleWakes() { time.Sleep(4 * DefaultWakeGap) }

// ticker is a running watcher and the ticks it reported.
type ticker struct {
	w     *Watcher
	mu    sync.Mutex
	ticks []TickStats
}

func (k *ticker) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.ticks)
}

func (k *ticker) last() TickStats {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ticks[len(k.ticks)-1]
}

// startWatcher runs a watcher polling every hour (so that only a wake-up
// explains a second poll) until the test ends, once it has polled once.
func startWatcher(t *testing.T, s *store.Store, src JobSource, holder string, listen bool) *ticker {
	t.Helper()
	k := &ticker{}
	k.w = NewWatcher(s, src, WatcherOptions{Interval: time.Hour, Holder: holder, ListenForWakes: listen,
		OnTick: func(st TickStats) { k.mu.Lock(); k.ticks = append(k.ticks, st); k.mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually(t, holder+"'s first poll", func() bool { return k.count() == 1 })
	return k
}

func quietSource() *fakeSource {
	return &fakeSource{list: func(xplenty.ListOptions) (*xplenty.JobPage, error) { return &xplenty.JobPage{}, nil }}
}

func (f *fakeSource) lists() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == "list" {
			n++
		}
	}
	return n
}

func trackOne(t *testing.T, s *store.Store) {
	t.Helper()
	if err := s.Track(context.Background(), testRecord(1001)); err != nil {
		t.Fatal(err)
	}
}

// A wake-up brings the next poll forward: the same list call as any poll.
func TestWakeBringsThePollForward(t *testing.T) {
	s, _ := newTestStore(t)
	trackOne(t, s)
	src := quietSource()
	k := startWatcher(t, s, src, "a", false)
	k.w.Wake()
	eventually(t, "a second poll", func() bool { return k.count() == 2 })
	if st := k.last(); !st.Leader || st.Calls != 1 || src.lists() != 2 {
		t.Errorf("woken poll %+v, %d list calls; want the leader's one list call each time", st, src.lists())
	}
}

// 50 wake-ups at once cost one poll, two if the burst straddles one: they
// fold together while they wait, and a woken poll starts at the earliest
// WakeGap after the one before.
func TestBurstOfWakesCostsAFewPolls(t *testing.T) {
	s, _ := newTestStore(t)
	trackOne(t, s)
	src := quietSource()
	k := startWatcher(t, s, src, "a", false)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); k.w.Wake() }()
	}
	wg.Wait()
	eventually(t, "a woken poll", func() bool { return k.count() >= 2 })
	settleWakes()
	if n := k.count() - 1; n > 2 {
		t.Errorf("50 wake-ups cost %d polls, want 1 or 2", n)
	}
}

// A wake-up is dropped by a replica that does not hold the lease, and by
// one slowing down (a failed poll, a low budget); one within WakeGap of the
// last poll waits for the gap.
func TestWakeIgnoredWhenItShouldBe(t *testing.T) {
	s, _ := newTestStore(t)
	trackOne(t, s)
	leader := startWatcher(t, s, quietSource(), "leader", false)
	follower := startWatcher(t, s, quietSource(), "follower", false)
	if !leader.last().Leader || follower.last().Leader {
		t.Fatalf("leader %+v, follower %+v", leader.last(), follower.last())
	}

	s2, _ := newTestStore(t)
	trackOne(t, s2)
	failing := &fakeSource{list: func(xplenty.ListOptions) (*xplenty.JobPage, error) { return nil, errors.New("xplenty is down") }}
	backingOff := startWatcher(t, s2, failing, "failing", false)

	s4, _ := newTestStore(t)
	trackOne(t, s4)
	spent := quietSource()
	spent.rl = xplenty.RateLimit{Limit: 5000, Remaining: 400} // under a tenth left: polling slows down
	lowBudget := startWatcher(t, s4, spent, "low-budget", false)

	s3, _ := newTestStore(t)
	trackOne(t, s3)
	gapped := &ticker{}
	gapped.w = NewWatcher(s3, quietSource(), WatcherOptions{Interval: time.Hour, WakeGap: time.Hour,
		OnTick: func(st TickStats) { gapped.mu.Lock(); gapped.ticks = append(gapped.ticks, st); gapped.mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gapped.w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, "the first poll", func() bool { return gapped.count() == 1 })

	for _, k := range []*ticker{follower, backingOff, lowBudget, gapped} {
		k.w.Wake()
	}
	settleWakes()
	for name, k := range map[string]*ticker{"follower": follower, "backing off": backingOff, "low budget": lowBudget,
		"within the gap": gapped, "leader": leader} {
		if n := k.count(); n != 1 {
			t.Errorf("%s: %d polls, want 1 (the wake-up ignored)", name, n)
		}
	}
}

// A wake-up published through Redis, by any replica, reaches the watchers
// that listen; the leader polls, the follower does not.
func TestWakesReachTheLeaderThroughRedis(t *testing.T) {
	s, rdb := newTestStore(t)
	trackOne(t, s)
	leaderSrc, followerSrc := quietSource(), quietSource()
	leader := startWatcher(t, s, leaderSrc, "leader", true)
	follower := startWatcher(t, s, followerSrc, "follower", true)
	other, err := store.New(rdb, store.Options{Prefix: strings.TrimSuffix(s.Keys().Active(), "active")})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Wake(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the leader's woken poll", func() bool { return leader.count() == 2 })
	settleWakes()
	if follower.count() != 1 || followerSrc.lists() != 0 || leaderSrc.lists() != 2 {
		t.Errorf("follower polled %d times; list calls: leader %d, follower %d", follower.count(), leaderSrc.lists(), followerSrc.lists())
	}
	if got := []bool{leader.last().Leader, follower.last().Leader}; !slices.Equal(got, []bool{true, false}) {
		t.Errorf("leadership %v", got)
	}
}
