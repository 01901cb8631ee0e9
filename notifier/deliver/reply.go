package deliver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
)

// markAttempt records, just before a reply is posted, that a post of it
// is being tried, and reports whether this is the first try. Any later try
// (a retry, an old copy held by a slow replica, a replica that claimed the
// entry) then searches the thread before posting: how the entry arrived
// says nothing about whether someone already posted it.
func (d *Deliverer) markAttempt(ctx context.Context, id int64, status xplenty.Status) (bool, error) {
	return d.store.MarkAttempt(ctx, id, status, d.opts.Consumer)
}

// clearAttempt forgets a first try that certainly posted nothing, so that
// the next one need not search the thread.
func (d *Deliverer) clearAttempt(ctx context.Context, id int64, status xplenty.Status) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := d.store.ClearAttempt(ctx, id, status); err != nil {
		d.log.Debug("clear reply attempt", "job_id", id, "err", err)
	}
}

// notPosted reports whether a failed post certainly did not reach the
// channel: the budget would not allow it, or Slack refused it with a 429.
func notPosted(err error) bool {
	var rl *slack.RateLimitedError
	return errors.Is(err, ErrBudgetWait) || errors.As(err, &rl)
}

// ReplyEventType is the Slack message-metadata event type of a terminal
// thread reply. The metadata is the reply's idempotency key: before posting
// a reply again after a lost answer, the thread is searched for it.
const ReplyEventType = "runjob_job_finished"

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
		msg := render.Reply(r)
		switch status {
		case xplenty.StatusFailed:
			msg = render.ReplyWithStreak(r, d.streak(ctx, r))
		case job.StatusLost:
			msg = render.LostNote(r)
		case job.StatusUnreadable:
			n, reason, err := d.store.ReadFailures(ctx, id)
			if err != nil {
				return err
			}
			msg = render.UnreadableNote(r, n, reason)
		case job.StatusSlow, job.StatusQueuedLong, job.StatusStoppingLong:
			if msg, err = d.watchdogNote(ctx, r, status); err != nil {
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
	return d.store.Delivered(ctx, id, status)
}

func (d *Deliverer) markDelivered(ctx context.Context, id int64, status xplenty.Status, ts string) error {
	// It was posted: record it even when shutting down, but not forever.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return d.store.MarkDelivered(ctx, id, status, ts)
}
