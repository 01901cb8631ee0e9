package deliver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
)

// twoReplicas returns two stores on one Redis key space, as two replicas
// of the bot have.
func twoReplicas(t *testing.T) (*store.Store, *store.Store) {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	rdb2, _ := redistest.Client(t)
	a, err := store.New(rdb, store.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.New(rdb2, store.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestBudgetIsSharedByReplicas(t *testing.T) {
	sa, sb := twoReplicas(t)
	perMinute := Rate{N: 1, Per: time.Minute, Burst: 3}
	a, b := NewBudgets(sa, perMinute, perMinute), NewBudgets(sb, perMinute, perMinute)
	ctx := context.Background()
	for i, bu := range []*Budgets{a, b, a} {
		if wait, err := bu.Take(ctx, "chat.update", "C1"); err != nil || wait != 0 {
			t.Fatalf("update %d within the burst: wait %v, %v", i, wait, err)
		}
	}
	wait, err := b.Take(ctx, "chat.update", "C2")
	if err != nil || wait <= 0 || wait > time.Minute {
		t.Errorf("fourth update in the workspace, from the other replica: wait %v, %v; want up to a minute", wait, err)
	}
	// Posts are paced per channel, apart from updates.
	for _, ch := range []string{"C1", "C1", "C1", "C2"} {
		if wait, err := a.Take(ctx, "chat.postMessage", ch); err != nil || wait != 0 {
			t.Errorf("post in %s: wait %v, %v", ch, wait, err)
		}
	}
	if wait, _ := b.Take(ctx, "chat.postMessage", "C1"); wait <= 0 {
		t.Error("fourth post in C1 went through a budget of 3")
	}
	// Methods without a budget are not paced.
	for range 5 {
		if wait, err := a.Take(ctx, "users.info", ""); err != nil || wait != 0 {
			t.Errorf("users.info: wait %v, %v", wait, err)
		}
	}
}

func TestBudgetPauseHoldsEveryReplica(t *testing.T) {
	sa, sb := twoReplicas(t)
	unlimited := Rate{}
	a, b := NewBudgets(sa, unlimited, unlimited), NewBudgets(sb, unlimited, unlimited)
	ctx := context.Background()
	if err := a.Pause(ctx, "chat.postMessage", "C1", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	wait, err := b.Take(ctx, "chat.postMessage", "C1")
	if err != nil || wait <= 3*time.Second || wait > 5*time.Second {
		t.Errorf("post in a paused channel from the other replica: wait %v, %v; want about 5s", wait, err)
	}
	if wait, err := b.Take(ctx, "chat.postMessage", "C2"); err != nil || wait != 0 {
		t.Errorf("post in another channel: wait %v, %v; want none", wait, err)
	}
	// A shorter pause does not shorten a longer one.
	if err := b.Pause(ctx, "chat.postMessage", "C1", time.Second); err != nil {
		t.Fatal(err)
	}
	if wait, _ := a.Take(ctx, "chat.postMessage", "C1"); wait <= 3*time.Second {
		t.Errorf("wait %v after a shorter pause, want the longer one kept", wait)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.Wait(wctx, "chat.postMessage", "C1"); err == nil {
		t.Error("Wait went through a pause longer than its deadline")
	}
}

// A 429 to one replica stops the other's calls to that channel for the
// Retry-After: the fake Slack sees no call inside it.
func TestPosterRetryAfterHoldsEveryReplica(t *testing.T) {
	fake := slacktest.New(slacktest.Options{})
	t.Cleanup(fake.Close)
	sa, sb := twoReplicas(t)
	newPoster := func(s *store.Store) *Poster {
		api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()))
		lots := Rate{N: 1000, Per: time.Second, Burst: 1000}
		return NewPoster(api, PosterOptions{Budgets: NewBudgets(s, lots, lots)})
	}
	a, b := newPoster(sa), newPoster(sb)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	fake.RateLimitNext("chat.postMessage", 1, 2*time.Second)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := a.Post(ctx, "C1", render.Message{Text: "from a"}, "", nil); err != nil {
			t.Errorf("post from a: %v", err)
		}
	}()
	if err := fake.Wait(ctx, func(s *slacktest.Snapshot) bool {
		for _, c := range s.Calls("chat.postMessage") {
			if c.Status == 429 {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	// Give a's pause a moment to land: it is written right after the 429
	// is read, and b must not beat it to Redis.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if w, _ := NewBudgets(sb, Rate{}, Rate{}).Take(ctx, "chat.postMessage", "C1"); w > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := b.Post(ctx, "C2", render.Message{Text: "elsewhere"}, "", nil); err != nil {
		t.Errorf("post in another channel: %v", err)
	}
	if _, err := b.Post(ctx, "C1", render.Message{Text: "from b"}, "", nil); err != nil {
		t.Errorf("post from b: %v", err)
	}
	wg.Wait()
	snap := fake.Snapshot()
	if v := snap.RetryAfterViolations(); len(v) != 0 {
		t.Errorf("calls inside a Retry-After: %v", v)
	}
	if n := len(snap.Messages()); n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
}

// A Retry-After longer than the budget's usual lifetime is honoured whole:
// the key outlives the pause, and the pause is not cut short.
func TestBudgetPauseLongerThanTenMinutes(t *testing.T) {
	s, rdb := newTestStore(t)
	b := NewBudgets(s, Rate{}, Rate{})
	ctx := context.Background()
	if err := b.Pause(ctx, "chat.update", "", 20*time.Minute); err != nil {
		t.Fatal(err)
	}
	wait, err := b.Take(ctx, "chat.update", "")
	if err != nil || wait <= 19*time.Minute || wait > 20*time.Minute {
		t.Errorf("update after a 20 min Retry-After: wait %v, %v; want about 20 min", wait, err)
	}
	ttl, err := rdb.PTTL(ctx, s.Keys().Budget(budgetUpdate)).Result()
	if err != nil || ttl < wait {
		t.Errorf("budget key expires in %v, before its pause ends in %v (%v)", ttl, wait, err)
	}
}

// A Retry-After past maxPause is a fault: it stops the method for maxPause,
// not for as long as it says.
func TestBudgetPauseIsBounded(t *testing.T) {
	s, _ := newTestStore(t)
	b := NewBudgets(s, Rate{}, Rate{})
	ctx := context.Background()
	if err := b.Pause(ctx, "chat.update", "", 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	wait, err := b.Take(ctx, "chat.update", "")
	if err != nil || wait > maxPause || wait < maxPause-time.Minute {
		t.Errorf("update after a 48 h Retry-After: wait %v, %v; want about %v", wait, err, maxPause)
	}
}
