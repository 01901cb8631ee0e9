package deliver

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/store"
)

// DefaultWorkers is how many thread messages a replica delivers at once.
// Each channel waits for its own budget (about one post a second) without
// taking one of these, so different channels go in parallel.
const DefaultWorkers = 16

// maxHeld bounds the outbox entries a replica holds in memory (a few
// hundred bytes each, so about a megabyte). Beyond it the deliverer stops
// reading and claiming entries until some are done; the others wait in
// Redis, where any replica can take them.
const maxHeld = 5000

// lanes deliver outbox entries: one lane per channel, in stream order, so
// one thread's messages stay in order, drained by a goroutine of its own
// that ends when the lane is empty. A lane waits for its channel's budget
// on its own; only Slack calls take one of the few slots. So the reader
// never blocks on a busy channel, and a quiet channel's reply goes out as
// soon as its own pacing allows.
type lanes struct {
	mu     sync.Mutex
	byChan map[string][]store.OutboxEntry // pending entries of each running lane
	held   map[string]bool                // ids of the entries in a lane
	slots  chan struct{}                  // bounds concurrent deliveries
	room   chan struct{}                  // signalled when an entry leaves
	wg     sync.WaitGroup
}

func newLanes(slots int) *lanes {
	return &lanes{
		byChan: map[string][]store.OutboxEntry{}, held: map[string]bool{},
		slots: make(chan struct{}, slots), room: make(chan struct{}, 1),
	}
}

// full reports whether the lanes hold as many entries as they may.
func (l *lanes) full() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held) >= maxHeld
}

// waitRoom waits until an entry leaves the lanes, at most d.
func (l *lanes) waitRoom(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-l.room:
	}
}

// stop waits for the lanes' goroutines; they end promptly once ctx is
// done, and what they held stays pending in Redis for the next try.
func (l *lanes) stop() { l.wg.Wait() }

// dispatch hands msgs to the lanes of their channels, without waiting.
// An entry this deliverer already holds (claimed again because it waited
// in its lane longer than ClaimIdle) is not added twice.
func (d *Deliverer) dispatch(ctx context.Context, msgs []store.OutboxEntry) {
	l := d.lanes
	l.mu.Lock()
	fresh := msgs[:0:0]
	for _, m := range msgs {
		if !l.held[m.ID] {
			fresh = append(fresh, m)
		}
	}
	l.mu.Unlock()
	if len(fresh) == 0 {
		return
	}
	chans := d.store.ChannelsOf(ctx, fresh)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, m := range fresh {
		// Only this goroutine adds entries, so none was added meanwhile.
		l.held[m.ID] = true
		ch := chans[i]
		q, running := l.byChan[ch]
		l.byChan[ch] = append(q, m)
		if !running {
			l.wg.Add(1)
			go d.runLane(ctx, ch)
		}
	}
}

// runLane delivers the entries of one channel's lane, in order, until the
// lane is empty or ctx ends.
func (d *Deliverer) runLane(ctx context.Context, ch string) {
	l := d.lanes
	defer l.wg.Done()
	for {
		l.mu.Lock()
		q := l.byChan[ch]
		if len(q) == 0 || ctx.Err() != nil {
			// On shutdown the rest stays pending in Redis.
			for _, m := range q {
				delete(l.held, m.ID)
			}
			delete(l.byChan, ch)
			l.mu.Unlock()
			return
		}
		m := q[0]
		l.mu.Unlock()

		if !strings.HasPrefix(ch, "job:") {
			d.postReady(ctx, ch)
		}
		select {
		case l.slots <- struct{}{}:
			if ctx.Err() == nil {
				d.handle(ctx, m)
			}
			<-l.slots
		case <-ctx.Done():
		}

		l.mu.Lock()
		if ctx.Err() == nil {
			l.byChan[ch] = l.byChan[ch][1:]
			delete(l.held, m.ID)
		}
		l.mu.Unlock()
		select {
		case l.room <- struct{}{}:
		default:
		}
	}
}

// postReady waits until channel's post budget would allow a post, without
// spending it, so that a lane waits for its channel holding no slot, and
// a reply's thread is searched only when it can then be posted. When the
// budget cannot be read the delivery goes ahead (and the post finds out).
func (d *Deliverer) postReady(ctx context.Context, channel string) {
	if b := d.poster.opts.Budgets; b != nil {
		if err := b.ReadyIn(ctx, "chat.postMessage", channel); err != nil && ctx.Err() == nil {
			d.log.Debug("post budget unavailable", "channel", channel, "err", err)
		}
		return
	}
	lim := d.poster.channelLimiter(channel)
	for {
		tok := lim.Tokens()
		if tok >= 1 {
			return
		}
		wait := time.Duration((1 - tok) / float64(lim.Limit()) * float64(time.Second))
		if !loop.Sleep(ctx, max(wait, time.Millisecond)) {
			return
		}
	}
}
