package deliver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/runjob/runjob/xplenty"
)

// heldSlack holds the first post until release is closed: a Slack that
// takes its time to answer, much longer than a lock lives.
type heldSlack struct {
	*fakeSlack
	once    sync.Once
	release chan struct{}
	holding chan struct{} // closed when the first post is held
	gaveUp  chan struct{} // closed when the held post's context ended
}

func newHeldSlack() *heldSlack {
	return &heldSlack{fakeSlack: &fakeSlack{}, release: make(chan struct{}), holding: make(chan struct{}), gaveUp: make(chan struct{})}
}

func (h *heldSlack) PostMessageContext(ctx context.Context, channel string, opts ...slack.MsgOption) (string, string, error) {
	first := false
	h.once.Do(func() { first = true })
	if first {
		close(h.holding)
		select {
		case <-h.release:
		case <-ctx.Done():
			close(h.gaveUp)
			return "", "", ctx.Err()
		}
	}
	return h.fakeSlack.PostMessageContext(ctx, channel, opts...)
}

// A post that takes many times the lock's life keeps its lock: the other
// replicas claim its message again and again meanwhile, and stand back
// each time, instead of searching the thread (where the held post is not
// yet) and posting a second reply.
func TestDeliverSlowPostKeepsItsLock(t *testing.T) {
	s, rdb := newTestStore(t)
	api := newHeldSlack()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, name := range []string{"r0", "r1", "r2"} {
		d := NewDeliverer(s, NewPoster(api, PosterOptions{ChannelBurst: 100, ChannelRate: 1000}), DelivererOptions{
			Consumer: name, ClaimIdle: 200 * time.Millisecond, Block: 50 * time.Millisecond, LockTTL: 300 * time.Millisecond,
		})
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(ctx) }()
	}
	finishJob(t, s, 1001, xplenty.StatusCompleted)
	// The message was handed out three times (read, then claimed twice
	// while its post was held): each time the lock had lived its TTL over.
	card := testRecord(1001).CardTS
	eventually(t, "the message to be claimed twice while its post is held", func() bool {
		if api.replies(card) > 0 {
			return true // another replica posted in its place: failed below
		}
		p, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: s.Keys().Outbox(), Group: "deliver", Start: "-", End: "+", Count: 10}).Result()
		return err == nil && len(p) == 1 && p[0].RetryCount >= 3
	})
	close(api.release)
	eventually(t, "the reply", func() bool { return api.replies(card) >= 1 })
	eventually(t, "the outbox to drain", func() bool { return len(outbox(t, s, rdb)) == 0 })
	if n := api.replies(card); n != 1 {
		t.Errorf("%d replies in the thread, want 1", n)
	}
	if n, _ := rdb.Exists(ctx, s.Keys().Delivered(1001, xplenty.StatusCompleted)).Result(); n != 1 {
		t.Error("the reply is not marked delivered")
	}
}

// A delivery whose lock was lost (taken by another meanwhile: it expired
// while Redis was away, or a failover lost it) is called off instead of
// going on unguarded; the message is then tried again, and posted once.
func TestDeliverCallsOffADeliveryThatLostItsLock(t *testing.T) {
	s, rdb := newTestStore(t)
	api := newHeldSlack()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := NewDeliverer(s, NewPoster(api, PosterOptions{ChannelBurst: 100, ChannelRate: 1000}), DelivererOptions{
		Consumer: "r0", ClaimIdle: 200 * time.Millisecond, Block: 50 * time.Millisecond, LockTTL: 300 * time.Millisecond,
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	finishJob(t, s, 1001, xplenty.StatusCompleted)
	<-api.holding
	if err := rdb.Set(ctx, s.Keys().Lock("reply:1001"), "intruder", 500*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-api.gaveUp:
	case <-time.After(15 * time.Second):
		t.Fatal("the delivery went on without its lock")
	}
	card := testRecord(1001).CardTS
	eventually(t, "the reply", func() bool { return api.replies(card) >= 1 })
	eventually(t, "the outbox to drain", func() bool { return len(outbox(t, s, rdb)) == 0 })
	if n := api.replies(card); n != 1 {
		t.Errorf("%d replies in the thread, want 1", n)
	}
}
