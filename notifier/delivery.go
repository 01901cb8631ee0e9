package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/runjob/runjob/xplenty"
)

// ReplyEventType is the Slack message-metadata event type of a terminal
// thread reply. The metadata is the reply's idempotency key: before posting
// a reply again after a lost answer, the thread is searched for it.
const ReplyEventType = "runjob_job_finished"

// Outbox message kinds.
const (
	// kindCard re-renders the job card from the record. Card edits now go
	// through the cards set; entries of this kind left in the outbox by an
	// older version are moved there.
	kindCard  = "card"
	kindReply = "reply" // the one thread reply for a terminal status
)

const deliveryGroup = "deliver"

// statusLost is the reply "status" of a job Xplenty no longer knows.
const statusLost xplenty.Status = "lost"

// lostNote is posted in the thread of a job the watcher gave up on.
func lostNote(r Record) Message {
	return Message{Text: fmt.Sprintf("%sJob %d: lost – Xplenty no longer knows this job (was it deleted?), so I stopped following it.", notePing(r), r.JobID)}
}

// notePing starts a note about a job given up with a mention of whoever
// started it, or with nothing when the requester is not a Slack user id.
func notePing(r Record) string {
	if slackUserID.MatchString(r.Requester) {
		return "<@" + r.Requester + "> "
	}
	return ""
}

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
	// Block is how long one read of the outbox waits for news. Default 1 s.
	Block time.Duration
	// OnDelivered, when set, is called after each message reached Slack.
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
	store  *Store
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
func NewDeliverer(store *Store, poster *Poster, opts DelivererOptions) *Deliverer {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Consumer == "" {
		opts.Consumer = "c-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if opts.ClaimIdle <= 0 {
		opts.ClaimIdle = 15 * time.Second
	}
	if opts.Block <= 0 {
		opts.Block = time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	return &Deliverer{store: store, poster: poster, opts: opts, log: opts.Logger}
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
		err := d.ensureGroup(ctx)
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
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
	return nil
}

func (d *Deliverer) ensureGroup(ctx context.Context) error {
	err := d.store.rdb.XGroupCreateMkStream(ctx, d.store.keys.outbox(), deliveryGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create outbox group: %w", err)
	}
	return nil
}

func (d *Deliverer) readNew(ctx context.Context) error {
	streams, err := d.store.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: deliveryGroup, Consumer: d.opts.Consumer,
		Streams: []string{d.store.keys.outbox(), ">"}, Count: int64(4 * d.opts.Workers), Block: d.opts.Block,
	}).Result()
	if errors.Is(err, redis.Nil) || (err != nil && ctx.Err() != nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	for _, s := range streams {
		d.dispatch(ctx, s.Messages)
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
	cs, err := d.store.rdb.XInfoConsumers(ctx, d.store.keys.outbox(), deliveryGroup).Result()
	if err != nil {
		d.log.Debug("list outbox consumers", "err", err)
		return
	}
	for _, c := range cs {
		if c.Name != d.opts.Consumer && c.Pending == 0 && c.Idle > pruneIdle {
			if err := d.store.rdb.XGroupDelConsumer(ctx, d.store.keys.outbox(), deliveryGroup, c.Name).Err(); err != nil {
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
		msgs, next, err := d.store.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: d.store.keys.outbox(), Group: deliveryGroup, Consumer: d.opts.Consumer,
			MinIdle: d.opts.ClaimIdle, Start: start, Count: 50,
		}).Result()
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
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
func (d *Deliverer) handle(ctx context.Context, m redis.XMessage) {
	defer func() {
		if v := recover(); v != nil {
			d.panicked(m.ID, v)
		}
	}()
	kind, _ := m.Values["kind"].(string)
	id, _ := strconv.ParseInt(fmt.Sprint(m.Values["job"]), 10, 64)
	status := xplenty.Status(fmt.Sprint(m.Values["status"]))
	log := d.log.With("kind", kind, "job_id", id, "status", status, "entry", m.ID)

	var err error
	switch kind {
	case kindCard:
		if err := d.store.QueueCard(ctx, id); err != nil {
			log.Warn("move card edit to the cards set, will retry", "err", err)
			return
		}
		ack(ctx, d, m.ID, log)
		return
	case kindReply:
		err = d.deliverReply(ctx, id, status)
	default:
		err = fmt.Errorf("unknown outbox kind %q", kind)
	}
	switch {
	case err == nil:
		if d.opts.OnDelivered != nil {
			d.opts.OnDelivered(kind, id, status)
		}
	case errors.Is(err, errBusy):
		return // another replica is on it; stays pending
	case errors.Is(err, ErrNotTracked) || (!IsRetryable(err) && ctx.Err() == nil):
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
	_, aerr := d.store.rdb.TxPipelined(ackCtx, func(p redis.Pipeliner) error {
		p.XAck(ackCtx, d.store.keys.outbox(), deliveryGroup, id)
		p.XDel(ackCtx, d.store.keys.outbox(), id)
		return nil
	})
	if aerr != nil {
		// Not fatal: the message will be claimed again, and every kind of
		// delivery is idempotent.
		log.Warn("ack outbox message", "err", aerr)
	}
}

var errBusy = errors.New("another delivery holds the lock")

// deliveryBudget bounds the Slack work of one delivery; the lock that keeps
// other deliverers off the same message lives longer, so it never expires
// while its holder may still post.
const (
	deliveryBudget = 20 * time.Second
	lockTTL        = deliveryBudget + 10*time.Second
)

// withLock runs fn holding the named lock; when another deliverer holds it,
// it waits a little, then gives up with errBusy (the message stays pending
// and is tried again later).
func (d *Deliverer) withLock(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	for try := 0; ; try++ {
		ok, err := d.store.Lock(ctx, name, d.opts.Consumer, lockTTL)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		if try == 10 || !sleep(ctx, 200*time.Millisecond) {
			return errBusy
		}
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = d.store.Unlock(uctx, name, d.opts.Consumer)
	}()
	fctx, cancel := context.WithTimeout(ctx, deliveryBudget)
	defer cancel()
	return fn(fctx)
}

// deliverCard brings a job's card up to date and says whether it edited
// it. Cards are re-rendered from the record, so any delivery shows the
// latest state; the lock and the revision check keep an older render from
// landing after a newer one, and skip edits the card already has. A change
// that arrives during the edit marks the card again.
func (d *Deliverer) deliverCard(ctx context.Context, id int64) (sent bool, err error) {
	err = d.withLock(ctx, "card:"+strconv.FormatInt(id, 10), func(ctx context.Context) error {
		shown, current, err := d.store.cardRev(ctx, id)
		if err != nil {
			return err
		}
		if current == 0 {
			return fmt.Errorf("card of job %d: %w", id, ErrNotTracked)
		}
		if shown >= current {
			return nil
		}
		r, err := d.store.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := d.poster.Update(ctx, r.Channel, r.CardTS, Card(r)); err != nil {
			return err
		}
		sent = true
		return d.store.setCardRev(ctx, id, r.Rev)
	})
	return sent, err
}

func (d *Deliverer) deliverReply(ctx context.Context, id int64, status xplenty.Status) error {
	if done, err := d.delivered(ctx, id, status); err != nil || done {
		return err
	}
	// The lock keeps two deliverers from posting the same reply at once
	// (a slow one and the one that claimed its message).
	return d.withLock(ctx, "reply:"+strconv.FormatInt(id, 10), func(ctx context.Context) error {
		// Checked again under the lock: another deliverer may have just
		// finished.
		if done, err := d.delivered(ctx, id, status); err != nil || done {
			return err
		}
		r, err := d.store.Get(ctx, id)
		if err != nil {
			return err
		}
		msg := Reply(r)
		switch status {
		case statusLost:
			msg = lostNote(r)
		case statusUnreadable:
			if msg, err = d.store.unreadableNote(ctx, r); err != nil {
				return err
			}
		}
		payload := map[string]any{"job_id": strconv.FormatInt(id, 10), "status": string(status)}
		first, err := d.markAttempt(ctx, id, status)
		if err != nil {
			return err
		}
		if !first {
			// An earlier try, here or on another replica, may have posted
			// and lost Slack's answer, or died before recording it: the
			// thread holds the proof. Looked up only when the post could
			// follow, not while the channel's budget is paused.
			d.postReady(ctx, r.Channel)
			ts, found, err := d.poster.FindInThread(ctx, r.Channel, r.CardTS, ReplyEventType, func(p map[string]any) bool {
				return fmt.Sprint(p["job_id"]) == payload["job_id"] && fmt.Sprint(p["status"]) == payload["status"]
			})
			if err != nil {
				return fmt.Errorf("reply to job %d: %w", id, err)
			}
			if found {
				return d.markDelivered(ctx, id, status, ts)
			}
		}
		ts, err := d.poster.Post(ctx, r.Channel, msg, r.CardTS, &slack.SlackMetadata{EventType: ReplyEventType, EventPayload: payload})
		if err != nil {
			if first && notPosted(err) {
				d.clearAttempt(ctx, id, status)
			}
			return fmt.Errorf("reply to job %d: %w", id, err)
		}
		return d.markDelivered(ctx, id, status, ts)
	})
}

func (d *Deliverer) delivered(ctx context.Context, id int64, status xplenty.Status) (bool, error) {
	n, err := d.store.rdb.Exists(ctx, d.store.keys.delivered(id, status)).Result()
	if err != nil {
		return false, fmt.Errorf("reply to job %d: %w", id, err)
	}
	return n == 1, nil
}

func (d *Deliverer) markDelivered(ctx context.Context, id int64, status xplenty.Status, ts string) error {
	// It was posted: record it even when shutting down, but not forever.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := d.store.rdb.Set(ctx, d.store.keys.delivered(id, status), ts, d.store.retention).Err(); err != nil {
		return fmt.Errorf("mark reply to job %d delivered: %w", id, err)
	}
	return nil
}

// sleep waits d or until ctx ends; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
