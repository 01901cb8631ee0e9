package notifier

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Card edits do not queue: a job whose card needs an edit is one member of
// the cards set, scored by when the edit may go out. Marking it again keeps
// the earliest due time, so however many changes arrive while an edit
// waits, one edit goes out, rendered from the record's newest state; an
// edit superseded while waiting is never sent.

// DefaultCardEvery spaces a card's edits for progress alone: under
// chat.update's 50 calls a minute, about 25 running jobs fit.
const DefaultCardEvery = 30 * time.Second

// cardLease is how long a deliverer holds a card it took: if it dies, the
// card is due again after that.
const cardLease = lockTTL

// cardPoll is how often an idle card loop looks for due edits: a card
// follows its thread reply by at most about this much.
const cardPoll = 250 * time.Millisecond

// takeCardScript takes the card due first, if one is due: it is pushed back
// by the lease (a mark in the meantime brings it forward again) and its id
// and lease score are returned. Otherwise it returns {0, ms until the first
// due card, or -1 when none waits}.
//
// KEYS: cards. ARGV: now (ms), lease (ms).
var takeCardScript = redis.NewScript(`
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return {0, -1} end
local due = tonumber(first[2])
local now = tonumber(ARGV[1])
if due > now then return {0, due - now} end
local lease = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', lease, first[1])
return {tonumber(first[1]), lease}
`)

// doneCardScript removes a delivered card from the set unless it was
// marked again since it was taken.
var doneCardScript = redis.NewScript(`
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 1
`)

// takeCard takes the card due first. With none due, id is 0 and wait says
// how long until one is (negative: none waits).
func (s *Store) takeCard(ctx context.Context) (id int64, lease string, wait time.Duration, err error) {
	v, err := takeCardScript.Run(ctx, s.rdb, []string{s.keys.cards()}, s.now().UnixMilli(), cardLease.Milliseconds()).Int64Slice()
	if err != nil || len(v) != 2 {
		return 0, "", 0, fmt.Errorf("take a card edit: %w", err)
	}
	if v[0] == 0 {
		return 0, "", time.Duration(v[1]) * time.Millisecond, nil
	}
	return v[0], strconv.FormatInt(v[1], 10), 0, nil
}

// doneCard removes a card taken with takeCard once its edit is out (or can
// never go out), unless a newer change marked it meanwhile.
func (s *Store) doneCard(ctx context.Context, id int64, lease string) error {
	return doneCardScript.Run(ctx, s.rdb, []string{s.keys.cards()}, id, lease).Err()
}

// markCard makes a card due at t (unless it is due sooner): QueueCard's
// "now", or a retry's later time.
func (s *Store) markCard(ctx context.Context, id int64, t time.Time) error {
	return s.rdb.ZAddLT(ctx, s.keys.cards(), redis.Z{Score: float64(t.UnixMilli()), Member: id}).Err()
}

// QueueStats describe what waits to be delivered.
type QueueStats struct {
	Replies      int64         // thread messages in the outbox
	OldestReply  time.Duration // age of the oldest of them
	CardsPending int64         // cards marked for an edit, due or not
	CardsDue     int64         // of which due now
	OldestCard   time.Duration // how long the card due first has been due
}

// Queues reads the queue depths, for metrics and for draining at shutdown.
func (s *Store) Queues(ctx context.Context) (QueueStats, error) {
	now := s.now()
	var st QueueStats
	var first *redis.XMessageSliceCmd
	var pending, due *redis.IntCmd
	var head *redis.ZSliceCmd
	var replies *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		first = p.XRangeN(ctx, s.keys.outbox(), "-", "+", 1)
		replies = p.XLen(ctx, s.keys.outbox())
		pending = p.ZCard(ctx, s.keys.cards())
		due = p.ZCount(ctx, s.keys.cards(), "-inf", strconv.FormatInt(now.UnixMilli(), 10))
		head = p.ZRangeWithScores(ctx, s.keys.cards(), 0, 0)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return st, fmt.Errorf("queue depths: %w", err)
	}
	st.Replies = replies.Val()
	if msgs := first.Val(); len(msgs) > 0 {
		// A stream entry's id starts with its time in ms.
		ms, _, _ := strings.Cut(msgs[0].ID, "-")
		if ms, err := strconv.ParseInt(ms, 10, 64); err == nil {
			st.OldestReply = max(0, now.Sub(time.UnixMilli(ms)))
		}
	}
	st.CardsPending, st.CardsDue = pending.Val(), due.Val()
	if h := head.Val(); len(h) > 0 {
		st.OldestCard = max(0, now.Sub(time.UnixMilli(int64(h[0].Score))))
	}
	return st, nil
}

// runCards delivers due card edits, one at a time, until ctx ends: the
// workspace's chat.update budget paces them, so one loop per replica is
// enough, and replies never wait behind it.
func (d *Deliverer) runCards(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		// Wait for the budget before taking a card, so that the edit shows
		// the newest state when it can go out.
		if b := d.poster.opts.Budgets; b != nil {
			if err := b.Ready(ctx, "chat.update"); err != nil && ctx.Err() == nil {
				d.log.Warn("card edits: budget unavailable, retrying", "err", err, "in", backoff)
				sleep(ctx, backoff)
				backoff = min(backoff*2, 5*time.Second)
				continue
			}
		}
		d.carding.Store(true)
		id, lease, wait, err := d.store.takeCard(ctx)
		if id == 0 || err != nil {
			d.carding.Store(false)
		}
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("card edits unavailable, retrying", "err", err, "in", backoff)
				sleep(ctx, backoff)
				backoff = min(backoff*2, 5*time.Second)
			}
			continue
		}
		backoff = 100 * time.Millisecond
		if id == 0 {
			if wait < 0 || wait > min(d.opts.Block, cardPoll) {
				wait = min(d.opts.Block, cardPoll)
			}
			sleep(ctx, wait)
			continue
		}
		d.handleCard(ctx, id, lease)
		d.carding.Store(false)
	}
}

func (d *Deliverer) handleCard(ctx context.Context, id int64, lease string) {
	log := d.log.With("kind", kindCard, "job_id", id)
	defer func() {
		if v := recover(); v != nil {
			d.panicked("card:"+strconv.FormatInt(id, 10), v)
			bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := d.store.markCard(bg, id, d.store.now().Add(2*time.Second)); err != nil {
				log.Warn("requeue card edit", "err", err) // due again after its lease
			}
		}
	}()
	sent, err := d.deliverCard(ctx, id)
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	switch {
	case err == nil:
		if sent && d.opts.OnDelivered != nil {
			d.opts.OnDelivered(kindCard, id, "")
		}
	case errors.Is(err, errBusy):
		// Another deliverer is editing it; look again shortly.
		err = d.store.markCard(bg, id, d.store.now().Add(time.Second))
		if err != nil {
			log.Warn("requeue card edit", "err", err)
		}
		return
	case errors.Is(err, ErrNotTracked) || (!IsRetryable(err) && ctx.Err() == nil):
		log.Error("dropping undeliverable card edit", "err", err)
	default:
		log.Warn("card edit failed, will retry", "err", err)
		if err := d.store.markCard(bg, id, d.store.now().Add(2*time.Second)); err != nil {
			log.Warn("requeue card edit", "err", err)
		}
		return
	}
	if err := d.store.doneCard(bg, id, lease); err != nil {
		// Not fatal: it is due again after the lease, and the edit is
		// then skipped (the card shows the record's rev).
		log.Warn("finish card edit", "err", err)
	}
}
