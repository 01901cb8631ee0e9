package deliver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// hookSlack wraps fakeSlack: beforePost may delay a post or lose Slack's
// answer to it (the message is stored all the same), by thread; lookups
// counts conversations.replies calls.
type hookSlack struct {
	*fakeSlack
	beforePost func(channel, thread string) (delay time.Duration, lostAnswer bool)
	lookups    atomic.Int64
}

func (h *hookSlack) PostMessageContext(ctx context.Context, channel string, opts ...slack.MsgOption) (string, string, error) {
	_, v, _ := slack.UnsafeApplyMsgOptions("", channel, "", opts...)
	lost := false
	if h.beforePost != nil {
		var d time.Duration
		d, lost = h.beforePost(channel, v.Get("thread_ts"))
		time.Sleep(d)
	}
	c, ts, err := h.fakeSlack.PostMessageContext(ctx, channel, opts...)
	if err == nil && lost {
		return "", "", slack.StatusCodeError{Code: 502, Status: "502 Bad Gateway"}
	}
	return c, ts, err
}

func (h *hookSlack) GetConversationRepliesContext(ctx context.Context, p *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error) {
	h.lookups.Add(1)
	return h.fakeSlack.GetConversationRepliesContext(ctx, p)
}

// channelReplies counts the thread replies posted in channel.
func (f *fakeSlack) channelReplies(channel string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.msgs {
		if m.Channel == channel && m.ThreadTimestamp != "" {
			n++
		}
	}
	return n
}

// finishIn tracks job id with its card at cardTS in channel and observes
// it completed, which queues its reply.
func finishIn(t *testing.T, s *store.Store, id int64, channel, cardTS string) {
	t.Helper()
	r := testRecord(id)
	r.Channel, r.CardTS = channel, cardTS
	if err := s.Track(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if ch, err := s.Observe(context.Background(), xplenty.Job{ID: id, Status: xplenty.StatusCompleted}); err != nil || ch != store.Finished {
		t.Fatalf("Observe = %v, %v", ch, err)
	}
}

// A channel with a long backlog of replies does not hold up the reply of
// another channel: the quiet channel's reply goes out while the busy one
// is still far from done.
func TestBusyChannelDoesNotStallOtherChannels(t *testing.T) {
	s, _ := newTestStore(t)
	api := &fakeSlack{}
	// Posts paced at 10/s per channel (Slack: 1/s), to keep the test short.
	b := NewBudgets(s, Rate{N: 10, Per: time.Second, Burst: 2}, Rate{N: 1000, Per: time.Second, Burst: 10})
	d := NewDeliverer(s, NewPoster(api, PosterOptions{Budgets: b}), DelivererOptions{Consumer: "r0"})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = d.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	const hot = 200
	for i := range hot {
		finishIn(t, s, int64(3000+i), "CHOT", fmt.Sprintf("1700000000.%06d", 1000+i))
	}
	finishIn(t, s, 9999, "COTHER", "1700000009.000001")
	eventually(t, "the quiet channel's reply", func() bool { return api.replies("1700000009.000001") == 1 })
	// Before, the quiet reply was read only once all but the last few dozen
	// of the busy channel's replies had been posted.
	if n := api.channelReplies("CHOT"); n >= hot/4 {
		t.Errorf("the quiet channel's reply went out after %d of the busy channel's %d", n, hot)
	}
}

// A deliverer that still holds an old copy of a reply, which another
// replica claimed, posted and lost Slack's answer to, looks in the thread
// before posting: the reply is posted once.
func TestHeldCopyOfClaimedReplyNotPostedTwice(t *testing.T) {
	s, rdb := newTestStore(t)
	base := &fakeSlack{}
	const slowThread, thread = "1700000000.000777", "1700000000.000888"
	inSlow := make(chan struct{})
	var once sync.Once
	apiA := &hookSlack{fakeSlack: base, beforePost: func(_, th string) (time.Duration, bool) {
		if th == slowThread {
			once.Do(func() { close(inSlow) })
			return 4 * time.Second, false // a slow Slack answer
		}
		return 0, false
	}}
	bLost := make(chan struct{})
	var onceB sync.Once
	apiB := &hookSlack{fakeSlack: base, beforePost: func(_, th string) (time.Duration, bool) {
		if th == thread {
			onceB.Do(func() { close(bLost) })
			return 0, true // posted; the answer is lost
		}
		return 0, false
	}}
	mk := func(api SlackAPI, name string, idle time.Duration) *Deliverer {
		return NewDeliverer(s, NewPoster(api, PosterOptions{ChannelBurst: 100, ChannelRate: 1000}), DelivererOptions{
			Consumer: name, ClaimIdle: idle, Block: 50 * time.Millisecond})
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = mk(apiA, "A", time.Minute).Run(ctxA) }()
	defer func() { cancelA(); wg.Wait() }()

	finishIn(t, s, 4001, "C1", slowThread)
	finishIn(t, s, 4002, "C1", thread)
	<-inSlow // A is posting 4001; 4002 waits behind it, in the same thread order

	ctxB, cancelB := context.WithCancel(context.Background())
	doneB := make(chan struct{})
	go func() { defer close(doneB); _ = mk(apiB, "B", 300*time.Millisecond).Run(ctxB) }()
	select {
	case <-bLost:
	case <-time.After(10 * time.Second):
		t.Fatal("B never tried 4002")
	}
	cancelB() // B dies after its post's answer was lost
	<-doneB

	eventually(t, "4002 delivered", func() bool {
		n, _ := rdb.Exists(context.Background(), s.Keys().Delivered(4002, xplenty.StatusCompleted)).Result()
		return n == 1
	})
	if n := base.replies(thread); n != 1 {
		t.Errorf("job 4002: %d replies in its thread, want 1", n)
	}
}

// While a channel's post budget is paused (a long Retry-After), its
// pending replies spend no thread lookups: nothing was attempted, and
// nothing could be posted anyway.
func TestNoLookupsWhilePostBudgetPaused(t *testing.T) {
	s, _ := newTestStore(t)
	api := &hookSlack{fakeSlack: &fakeSlack{}}
	b := DefaultBudgets(s)
	ctx := context.Background()
	if err := b.Pause(ctx, "chat.postMessage", "C1", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		finishIn(t, s, int64(5000+i), "C1", fmt.Sprintf("1700000000.%06d", 5000+i))
	}
	d := NewDeliverer(s, NewPoster(api, PosterOptions{Budgets: b}), DelivererOptions{
		Consumer: "r0", ClaimIdle: 300 * time.Millisecond, Block: 50 * time.Millisecond})
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = d.Run(rctx) }()
	// Several ClaimIdle periods: each used to claim the replies again and
	// look in their threads.
	time.Sleep(3 * time.Second)
	cancel()
	wg.Wait()
	api.mu.Lock()
	posts := api.posts
	api.mu.Unlock()
	if n := api.lookups.Load(); n > 0 || posts > 0 {
		t.Errorf("paused post budget, 20 replies pending: %d thread lookups, %d posts; want none", n, posts)
	}
}
