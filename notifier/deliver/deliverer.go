package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// Outbox message kinds.
const (
	// kindCard re-renders the job card from the record. Card edits now go
	// through the cards set; entries of this kind left in the outbox by an
	// older version are moved there.
	kindCard  = "card"
	kindReply = "reply" // the one thread reply for a terminal status
)

// DelivererOptions configure a Deliverer.
type DelivererOptions struct {
	Logger *slog.Logger
	// Consumer names this replica in the outbox's consumer group; it must
	// differ between replicas. Default: a random name.
	Consumer string
	// ClaimIdle is how long a message may stay unacknowledged (its deliverer
	// crashed, or Slack kept failing) before another try takes it over.
	// Default 15 s.
	ClaimIdle time.Duration
	// LockTTL is how long the lock of a message or a card outlives a
	// deliverer that died holding it; a live one renews it. Default
	// DefaultLockTTL.
	LockTTL time.Duration
	// Block is how long one read of the outbox waits for news. Default 1 s.
	Block time.Duration
	// OnDelivered, when set, is called after each message was dealt with
	// for good, with its kind: "card" (an edit), "reply" (posted in the
	// card's thread), "dm" (sent to the requester instead: the channel
	// could not take it) or "skipped" (left out by the channel's notify
	// settings).
	OnDelivered func(kind string, jobID int64, status xplenty.Status)
	// OnPanic, when set, is told of each delivery that panicked (and was
	// recovered; the message stays pending and is tried again).
	OnPanic func()
	// Workers is how many thread messages are delivered at once (one
	// channel's in order). Default DefaultWorkers.
	Workers int
}

// Deliverer takes thread messages from the Redis outbox, and card edits due
// in the cards set, and delivers them to Slack until Slack accepts them. Any number of replicas can run one: the
// consumer group hands each message to one of them, a crashed replica's
// messages are claimed by the others, and a thread reply is posted at most
// once (a delivered marker in Redis, and message metadata found in the
// thread when an answer from Slack was lost).
type Deliverer struct {
	store  *store.Store
	poster *Poster
	opts   DelivererOptions
	log    *slog.Logger
	lanes  *lanes // while Run runs
	// carding is set from taking a card to the end of its edit: the card
	// is then no longer due, and a drain must still wait for it.
	carding atomic.Bool
}

// EditingCard reports whether this deliverer is taking or editing a card.
func (d *Deliverer) EditingCard() bool { return d.carding.Load() }

// NewDeliverer returns a Deliverer writing to Slack through poster.
func NewDeliverer(s *store.Store, poster *Poster, opts DelivererOptions) *Deliverer {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Consumer == "" {
		opts.Consumer = "c-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if opts.ClaimIdle <= 0 {
		opts.ClaimIdle = 15 * time.Second
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	if opts.Block <= 0 {
		opts.Block = time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	return &Deliverer{store: s, poster: poster, opts: opts, log: opts.Logger}
}

// Run delivers until ctx ends. Redis being away is waited out, not fatal.
// Card edits have a loop of their own, so that thread replies never wait
// behind them.
func (d *Deliverer) Run(ctx context.Context) error {
	cardsDone := make(chan struct{})
	go func() { defer close(cardsDone); d.runCards(ctx) }()
	defer func() { <-cardsDone }()
	d.lanes = newLanes(d.opts.Workers)
	defer d.lanes.stop()
	backoff := 100 * time.Millisecond
	var lastClaim, lastPrune time.Time
	for ctx.Err() == nil {
		if d.lanes.full() {
			d.lanes.waitRoom(ctx, d.opts.Block)
			continue
		}
		err := d.store.EnsureOutboxGroup(ctx)
		if err == nil && time.Since(lastClaim) >= d.opts.ClaimIdle/3 {
			lastClaim = time.Now()
			err = d.claimStale(ctx)
		}
		if err == nil && time.Since(lastPrune) >= pruneEvery {
			lastPrune = time.Now()
			d.pruneConsumers(ctx)
		}
		if err == nil {
			err = d.readNew(ctx)
		}
		if err != nil && ctx.Err() == nil {
			d.log.Warn("outbox unavailable, retrying", "err", err, "in", backoff)
			if !loop.Sleep(ctx, backoff) {
				break
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
	return nil
}

func (d *Deliverer) readNew(ctx context.Context) error {
	entries, err := d.store.ReadOutbox(ctx, d.opts.Consumer, int64(4*d.opts.Workers), d.opts.Block)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		d.dispatch(ctx, entries)
	}
	return nil
}

// Every replica start is a new consumer of the outbox group; consumers
// gone for pruneIdle with nothing pending are removed, so the group does not
// grow with every deploy.
const (
	pruneEvery = 10 * time.Minute
	pruneIdle  = time.Hour
)

func (d *Deliverer) pruneConsumers(ctx context.Context) {
	cs, err := d.store.OutboxConsumers(ctx)
	if err != nil {
		d.log.Debug("list outbox consumers", "err", err)
		return
	}
	for _, c := range cs {
		if c.Name != d.opts.Consumer && c.Pending == 0 && c.Idle > pruneIdle {
			if err := d.store.RemoveOutboxConsumer(ctx, c.Name); err != nil {
				d.log.Debug("remove outbox consumer", "consumer", c.Name, "err", err)
			}
		}
	}
}

// claimStale takes over messages that stayed unacknowledged too long. It
// comes across this deliverer's own entries still waiting in their lanes
// as well; dispatch skips those (no second copy).
func (d *Deliverer) claimStale(ctx context.Context) error {
	start := "0-0"
	for i := 0; i < 10; i++ {
		msgs, next, err := d.store.ClaimOutbox(ctx, d.opts.Consumer, d.opts.ClaimIdle, start, 50)
		if err != nil {
			return err
		}
		d.dispatch(ctx, msgs)
		if next == "0-0" || next == "" {
			return nil
		}
		start = next
	}
	return nil
}

// handle delivers one outbox message and acknowledges it once Slack
// accepted it or it can never be delivered. A message that failed for a
// transient reason stays pending and is claimed again after ClaimIdle.
func (d *Deliverer) handle(ctx context.Context, m store.OutboxEntry) {
	defer func() {
		if v := recover(); v != nil {
			d.panicked(m.ID, v)
		}
	}()
	kind, id, status := m.Kind, m.JobID, m.Status
	log := d.log.With("kind", kind, "job_id", id, "status", status, "entry", m.ID)

	var err error
	how := kind
	switch kind {
	case kindCard:
		if err := d.store.QueueCard(ctx, id); err != nil {
			log.Warn("move card edit to the cards set, will retry", "err", err)
			return
		}
		ack(ctx, d, m.ID, log)
		return
	case kindReply:
		how, err = d.deliverReply(ctx, id, status)
	default:
		err = fmt.Errorf("unknown outbox kind %q", kind)
	}
	switch {
	case err == nil:
		if d.opts.OnDelivered != nil {
			d.opts.OnDelivered(how, id, status)
		}
	case errors.Is(err, errBusy):
		return // another replica is on it; stays pending
	case errors.Is(err, store.ErrNotTracked) || (!IsRetryable(err) && ctx.Err() == nil):
		log.Error("dropping undeliverable message", "err", err)
	default:
		log.Warn("delivery failed, will retry", "err", err)
		return
	}
	ack(ctx, d, m.ID, log)
}

// ack acknowledges and deletes an outbox entry in one round trip; the
// stream holds only what is due.
func ack(ctx context.Context, d *Deliverer, id string, log *slog.Logger) {
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if aerr := d.store.AckOutbox(ackCtx, id); aerr != nil {
		// Not fatal: the message will be claimed again, and every kind of
		// delivery is idempotent.
		log.Warn("ack outbox message", "err", aerr)
	}
}

// panicked logs and counts a panic recovered in one delivery. A thread
// message that panicked was not acknowledged, so it stays pending and is
// claimed again after ClaimIdle; a card that panicked is due again shortly
// (both kinds of delivery are idempotent).
func (d *Deliverer) panicked(entry string, v any) {
	loop.LogPanic(d.log.With("entry", entry), "delivery", v)
	if d.opts.OnPanic != nil {
		d.opts.OnPanic()
	}
}
