package deliver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
)

// cardLease is how long a deliverer holds a card it took: if it dies, the
// card is due again after that. It outlasts a whole edit (deliveryBudget),
// so a slow edit is not taken up by another replica meanwhile.
const cardLease = deliveryBudget + 10*time.Second

// cardPoll is how often an idle card loop looks for due edits: a card
// follows its thread reply by at most about this much.
const cardPoll = 250 * time.Millisecond

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
				loop.Sleep(ctx, backoff)
				backoff = min(backoff*2, 5*time.Second)
				continue
			}
		}
		d.carding.Store(true)
		id, lease, wait, err := d.store.TakeCard(ctx, cardLease)
		if id == 0 || err != nil {
			d.carding.Store(false)
		}
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("card edits unavailable, retrying", "err", err, "in", backoff)
				loop.Sleep(ctx, backoff)
				backoff = min(backoff*2, 5*time.Second)
			}
			continue
		}
		backoff = 100 * time.Millisecond
		if id == 0 {
			if wait < 0 || wait > min(d.opts.Block, cardPoll) {
				wait = min(d.opts.Block, cardPoll)
			}
			loop.Sleep(ctx, wait)
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
			if err := d.store.MarkCard(bg, id, d.store.Now().Add(2*time.Second)); err != nil {
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
		err = d.store.MarkCard(bg, id, d.store.Now().Add(time.Second))
		if err != nil {
			log.Warn("requeue card edit", "err", err)
		}
		return
	case errors.Is(err, store.ErrNotTracked) || (!IsRetryable(err) && ctx.Err() == nil):
		log.Error("dropping undeliverable card edit", "err", err)
	default:
		log.Warn("card edit failed, will retry", "err", err)
		if err := d.store.MarkCard(bg, id, d.store.Now().Add(2*time.Second)); err != nil {
			log.Warn("requeue card edit", "err", err)
		}
		return
	}
	if err := d.store.DoneCard(bg, id, lease); err != nil {
		// Not fatal: it is due again after the lease, and the edit is
		// then skipped (the card shows the record's rev).
		log.Warn("finish card edit", "err", err)
	}
}

// deliverCard brings a job's card up to date and says whether it edited
// it. Cards are re-rendered from the record, so any delivery shows the
// latest state; the lock and the revision check keep an older render from
// landing after a newer one, and skip edits the card already has. A change
// that arrives during the edit marks the card again.
func (d *Deliverer) deliverCard(ctx context.Context, id int64) (sent bool, err error) {
	err = d.withLock(ctx, "card:"+strconv.FormatInt(id, 10), func(ctx context.Context) error {
		shown, current, err := d.store.CardRev(ctx, id)
		if err != nil {
			return err
		}
		if current == 0 {
			return fmt.Errorf("card of job %d: %w", id, store.ErrNotTracked)
		}
		if shown >= current {
			return nil
		}
		r, err := d.store.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := d.poster.Update(ctx, r.Channel, r.CardTS, render.CardWith(r, d.cardContext(ctx, r))); err != nil {
			return err
		}
		sent = true
		return d.store.SetCardRev(ctx, id, r.Rev)
	})
	return sent, err
}
