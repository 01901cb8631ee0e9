package deliver

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
)

// A 429 on the lost-answer lookup (conversations.replies) is waited out
// like any other: the budget of the lookups is paused, and the next try
// comes after the Retry-After.
func TestPosterRepliesLookup429WaitsRetryAfter(t *testing.T) {
	fake := slacktest.New(slacktest.Options{})
	t.Cleanup(fake.Close)
	s, _ := newTestStore(t)
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()))
	p := NewPoster(api, PosterOptions{Budgets: DefaultBudgets(s)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	card, err := p.Post(ctx, "C1", render.Message{Text: "card"}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	fake.RateLimitNext("conversations.replies", 1, 2*time.Second)
	if _, found, err := p.FindInThread(ctx, "C1", card, ReplyEventType, func(map[string]any) bool { return true }); err != nil || found {
		t.Fatalf("FindInThread = %v, %v; want not found, no error", found, err)
	}
	snap := fake.Snapshot()
	if n := len(snap.Calls("conversations.replies")); n != 2 {
		t.Errorf("%d conversations.replies calls, want the 429 and one more", n)
	}
	if v := snap.RetryAfterViolations(); len(v) != 0 {
		t.Errorf("calls inside a Retry-After: %v", v)
	}
	// The pause holds for every replica, not only this call.
	if wait, err := DefaultBudgets(s).Take(ctx, "conversations.replies", ""); err != nil || wait != 0 {
		t.Errorf("after the Retry-After: wait %v, %v", wait, err)
	}
}

// With Redis away the budgets cannot be read; Slack calls still go out,
// paced by limiters in the process, and the fallback is logged once, not
// once per call.
func TestPosterPostsWhenRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	s, err := store.New(srv.Client(), store.Options{Prefix: redistest.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	api := &fakeSlack{}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p := NewPoster(api, PosterOptions{Budgets: DefaultBudgets(s), Logger: log})
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	card, err := p.Post(ctx, "C1", render.Message{Text: "card"}, "", nil)
	if err != nil {
		t.Fatalf("post with Redis down: %v", err)
	}
	if _, err := p.Post(ctx, "C1", render.Message{Text: "reply"}, card, nil); err != nil {
		t.Errorf("reply with Redis down: %v", err)
	}
	if err := p.Update(ctx, "C1", card, render.Message{Text: "card, edited"}); err != nil {
		t.Errorf("update with Redis down: %v", err)
	}
	if _, _, err := p.FindInThread(ctx, "C1", card, ReplyEventType, func(map[string]any) bool { return true }); err != nil {
		t.Errorf("lookup with Redis down: %v", err)
	}
	api.mu.Lock()
	posts, updates := api.posts, api.updates
	api.mu.Unlock()
	if posts != 2 || updates != 1 {
		t.Errorf("%d posts and %d updates reached Slack, want 2 and 1", posts, updates)
	}
	if n := strings.Count(logs.String(), "slack budgets unavailable"); n != 1 {
		t.Errorf("fallback logged %d times, want once:\n%s", n, logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
