package deliver

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/xplenty"
)

// panicOnce is a Slack API whose first chat.update panics before Slack
// sees it.
type panicOnce struct {
	*fakeSlack
	calls atomic.Int32
}

func (p *panicOnce) UpdateMessageContext(ctx context.Context, channel, ts string, opts ...slack.MsgOption) (string, string, string, error) {
	if p.calls.Add(1) == 1 {
		panic("a bug in the card edit")
	}
	return p.fakeSlack.UpdateMessageContext(ctx, channel, ts, opts...)
}

// A delivery that panics is logged and counted, stays pending (it is not
// acknowledged), and is delivered on the next try; the deliverer carries on.
func TestDeliveryThatPanicsStaysPendingAndIsRetried(t *testing.T) {
	s, _ := newTestStore(t)
	finishJob(t, s, 1001, xplenty.StatusCompleted)
	api := &panicOnce{fakeSlack: &fakeSlack{}}
	var panics atomic.Int32
	var delivered sync.Map
	d := NewDeliverer(s, NewPoster(api, PosterOptions{ChannelBurst: 100, ChannelRate: 1000}), DelivererOptions{
		Consumer: "r0", ClaimIdle: 300 * time.Millisecond, Block: 50 * time.Millisecond,
		OnPanic:     func() { panics.Add(1) },
		OnDelivered: func(kind string, _ int64, _ xplenty.Status) { delivered.Store(kind, true) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = d.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	eventually(t, "the card and the reply delivered", func() bool {
		_, card := delivered.Load(kindCard)
		_, reply := delivered.Load(kindReply)
		return card && reply
	})
	if n := panics.Load(); n != 1 {
		t.Errorf("OnPanic called %d times, want 1", n)
	}
	api.mu.Lock()
	edits := api.updates
	api.mu.Unlock()
	if edits != 1 || api.replies("1700000000.000100") != 1 {
		t.Errorf("%d card edits and %d replies reached Slack, want 1 and 1", edits, api.replies("1700000000.000100"))
	}
}
