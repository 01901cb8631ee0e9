package deliver

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// startDeliverer runs one deliverer with the given poster options until the
// test ends.
func startDeliverer(t *testing.T, s *store.Store, api SlackAPI, po PosterOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := NewDeliverer(s, NewPoster(api, po), DelivererOptions{
		Consumer: "r0", ClaimIdle: 300 * time.Millisecond, Block: 50 * time.Millisecond,
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// Progress alone edits a card at most once per CardEvery; edits superseded
// while waiting are never sent; a status change goes out at once, and the
// final state wins.
func TestCardEditsCoalesce(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	s, err := store.New(rdb, store.Options{Prefix: prefix, CardEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	api := &fakeSlack{}
	startDeliverer(t, s, api, PosterOptions{ChannelRate: 1000, ChannelBurst: 1000})
	ctx := context.Background()
	if err := s.Track(ctx, testRecord(1001)); err != nil {
		t.Fatal(err)
	}
	updates := func() int { api.mu.Lock(); defer api.mu.Unlock(); return api.updates }
	observe := func(st xplenty.Status, p float64) {
		t.Helper()
		if _, err := s.Observe(ctx, xplenty.Job{ID: 1001, Status: st, Progress: p}); err != nil {
			t.Fatal(err)
		}
	}
	observe(xplenty.StatusRunning, 0.1)
	eventually(t, "the running edit", func() bool { return len(cardsMarked(t, s, rdb)) == 0 })
	for p := 0.2; p < 0.95; p += 0.1 {
		observe(xplenty.StatusRunning, p)
	}
	time.Sleep(300 * time.Millisecond) // several card-loop rounds: an edit would show
	if n := updates(); n != 1 {
		t.Errorf("%d edits after 7 progress moves within CardEvery, want 1 (the running edit)", n)
	}
	if got := cardsMarked(t, s, rdb); len(got) != 1 {
		t.Errorf("cards marked = %v, want the one pending progress edit", got)
	}
	observe(xplenty.StatusCompleted, 1)
	eventually(t, "the final edit", func() bool { return len(cardsMarked(t, s, rdb)) == 0 })
	api.mu.Lock()
	final, n := api.cardText[testRecord(1001).CardTS], api.updates
	api.mu.Unlock()
	if n != 2 || !strings.Contains(final, "completed") {
		t.Errorf("%d edits ending with %q, want 2 ending completed", n, final)
	}
}

// Card entries an older version left in the outbox are moved to the cards
// set and edited from there.
func TestOldCardEntriesInTheOutboxAreDelivered(t *testing.T) {
	s, rdb := newTestStore(t)
	api := &fakeSlack{}
	ctx := context.Background()
	if err := s.Track(ctx, testRecord(1001)); err != nil {
		t.Fatal(err)
	}
	if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.Keys().Outbox(), Values: []any{"kind", "card", "job", 1001, "status", "idle"}}).Err(); err != nil {
		t.Fatal(err)
	}
	startDeliverer(t, s, api, PosterOptions{ChannelRate: 1000, ChannelBurst: 1000})
	eventually(t, "the edit", func() bool { api.mu.Lock(); defer api.mu.Unlock(); return api.updates == 1 })
	eventually(t, "the outbox to drain", func() bool { return len(outbox(t, s, rdb)) == 0 })
}

// With chat.update's budget spent, card edits wait, and a thread reply
// still goes out.
func TestRepliesDoNotWaitBehindCardEdits(t *testing.T) {
	s, rdb := newTestStore(t)
	api := &fakeSlack{}
	ctx := context.Background()
	budgets := NewBudgets(s, Rate{N: 1000, Per: time.Second, Burst: 1000}, Rate{N: 1, Per: time.Hour, Burst: 1})
	if w, err := budgets.Take(ctx, "chat.update", ""); err != nil || w != 0 {
		t.Fatalf("spend the update budget: %v, %v", w, err)
	}
	for id := int64(1001); id <= 1005; id++ {
		if err := s.Track(ctx, testRecord(id)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Observe(ctx, xplenty.Job{ID: id, Status: xplenty.StatusRunning}); err != nil {
			t.Fatal(err)
		}
	}
	startDeliverer(t, s, api, PosterOptions{Budgets: budgets})
	finishJob(t, s, 1006, xplenty.StatusCompleted)
	eventually(t, "the reply", func() bool { return api.replies(testRecord(1006).CardTS) == 1 })
	if n := len(cardsMarked(t, s, rdb)); n != 6 {
		t.Errorf("%d cards waiting, want all 6 (the budget allows no edit)", n)
	}
}

// A channel whose posts must wait does not hold up replies in others.
func TestRepliesInOtherChannelsGoMeanwhile(t *testing.T) {
	s, _ := newTestStore(t)
	api := &fakeSlack{}
	ctx := context.Background()
	lots := Rate{N: 1000, Per: time.Second, Burst: 1000}
	budgets := NewBudgets(s, lots, lots)
	if err := budgets.Pause(ctx, "chat.postMessage", "C1", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	startDeliverer(t, s, api, PosterOptions{Budgets: budgets})
	finishJob(t, s, 1001, xplenty.StatusCompleted) // in C1
	other := testRecord(1002)
	other.Channel, other.CardTS = "C2", "1700000000.000200"
	if err := s.Track(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Observe(ctx, xplenty.Job{ID: 1002, Status: xplenty.StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reply in C2", func() bool { return api.replies(other.CardTS) == 1 })
	if n := api.replies(testRecord(1001).CardTS); n != 0 {
		t.Errorf("%d replies in C1 during its pause, want 0", n)
	}
}
