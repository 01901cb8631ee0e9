package deliver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
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

// How a reply was dealt with: the kind DelivererOptions.OnDelivered is
// told.
const (
	howReply   = kindReply // posted in the card's thread (or found there, or done before)
	howDM      = "dm"      // sent to the requester as a direct message instead
	howSkipped = "skipped" // left out by the channel's notify settings
)

// deliverReply deals with the reply to job id for status once: it posts it
// in the card's thread, or, when the channel's notify settings leave it
// out, marks it delivered without posting it, or, when the channel can no
// longer take it, sends it to the requester (sendDirect). It returns how.
func (d *Deliverer) deliverReply(ctx context.Context, id int64, status xplenty.Status) (string, error) {
	if done, err := d.delivered(ctx, id, status); err != nil || done {
		return howReply, err
	}
	how := howReply
	// The lock keeps two deliverers from posting the same reply at once
	// (a slow one and the one that claimed its message).
	err := d.withLock(ctx, "reply:"+strconv.FormatInt(id, 10), func(ctx context.Context) error {
		// Checked again under the lock: another deliverer may have just
		// finished.
		if done, err := d.delivered(ctx, id, status); err != nil || done {
			return err
		}
		r, err := d.store.Get(ctx, id)
		if err != nil {
			return err
		}
		settings, err := d.store.Notify(ctx, r.Channel)
		if err != nil {
			return err
		}
		if !hears(settings.Level, status) {
			d.log.Debug("reply left out by the channel's notify settings", "job_id", id, "status", status,
				"channel", r.Channel, "level", settings.Level)
			how = howSkipped
			return d.markDelivered(ctx, id, status, store.DeliveredSkipped)
		}
		// Once a direct message was tried, the reply is the direct
		// message's: it is never sent twice, nor posted in the thread too.
		tried, err := d.store.DMAttempted(ctx, id, status)
		if err != nil {
			return err
		}
		if tried {
			how = howDM
			d.log.Warn("a direct message of this reply was tried and may have gone; not sending it again",
				"job_id", id, "status", status, "user", r.Requester)
			return d.markDelivered(ctx, id, status, store.DeliveredDM)
		}
		mentions := render.Ping
		if !settings.Mention {
			mentions = render.Quiet
		}
		msg, err := d.replyMessage(ctx, r, status, mentions)
		if err != nil {
			return err
		}
		broadcast := settings.Broadcast == commands.NotifyFailures && failure(status)
		ts, err := d.postInThread(ctx, r, status, msg, broadcast)
		if channelGone(err) {
			how = howDM
			return d.sendDirect(ctx, r, status, msg, err)
		}
		if err != nil {
			return err
		}
		return d.markDelivered(ctx, id, status, ts)
	})
	return how, err
}

// hears reports whether a channel at level hears the reply (or note) for
// status: at NotifyFailures, everything but a completion (failures, stops,
// jobs given up, the watchdog's notes).
func hears(level commands.NotifyLevel, status xplenty.Status) bool {
	switch level {
	case commands.NotifyOff:
		return false
	case commands.NotifyFailures:
		return status != xplenty.StatusCompleted
	}
	return true
}

// failure reports whether the reply for status says a job ended without
// completing: what broadcast=failures also shows in the channel.
func failure(status xplenty.Status) bool {
	switch status {
	case xplenty.StatusFailed, xplenty.StatusStopped, job.StatusLost, job.StatusUnreadable:
		return true
	}
	return false
}

// replyMessage renders the reply to r for status.
func (d *Deliverer) replyMessage(ctx context.Context, r job.Record, status xplenty.Status, m render.Mentions) (render.Message, error) {
	switch status {
	case xplenty.StatusFailed:
		return render.ReplyWithStreak(r, d.streak(ctx, r), m), nil
	case job.StatusLost:
		return render.LostNote(r, m), nil
	case job.StatusUnreadable:
		n, reason, err := d.store.ReadFailures(ctx, r.JobID)
		if err != nil {
			return render.Message{}, err
		}
		return render.UnreadableNote(r, n, reason, m), nil
	case job.StatusSlow, job.StatusQueuedLong, job.StatusStoppingLong:
		return d.watchdogNote(ctx, r, status, m)
	}
	return render.ReplyWithStreak(r, render.Streak{}, m), nil
}

// replyMeta is the metadata a reply carries: the proof, found in the
// thread, that it was posted.
func replyMeta(id int64, status xplenty.Status) *slack.SlackMetadata {
	return &slack.SlackMetadata{EventType: ReplyEventType,
		EventPayload: map[string]any{"job_id": strconv.FormatInt(id, 10), "status": string(status)}}
}

// postInThread posts msg in the thread of r's card once: a later try (a
// retry, a slow replica's old copy) first looks for it there. It returns
// the reply's ts.
func (d *Deliverer) postInThread(ctx context.Context, r job.Record, status xplenty.Status, msg render.Message, broadcast bool) (string, error) {
	id := r.JobID
	meta := replyMeta(id, status)
	first, err := d.markAttempt(ctx, id, status)
	if err != nil {
		return "", err
	}
	if !first {
		// An earlier try, here or on another replica, may have posted
		// and lost Slack's answer, or died before recording it: the
		// thread holds the proof. Looked up only when the post could
		// follow, not while the channel's budget is paused.
		d.postReady(ctx, r.Channel)
		ts, found, err := d.poster.FindInThread(ctx, r.Channel, r.CardTS, ReplyEventType, func(p map[string]any) bool {
			return fmt.Sprint(p["job_id"]) == meta.EventPayload["job_id"] && fmt.Sprint(p["status"]) == meta.EventPayload["status"]
		})
		if err != nil {
			return "", fmt.Errorf("reply to job %d: %w", id, err)
		}
		if found {
			return ts, nil
		}
	}
	post := d.poster.Post
	if broadcast {
		post = d.poster.Broadcast
	}
	ts, err := post(ctx, r.Channel, msg, r.CardTS, meta)
	if err != nil {
		if first && notPosted(err) {
			d.clearAttempt(ctx, id, status)
		}
		return "", fmt.Errorf("reply to job %d: %w", id, err)
	}
	return ts, nil
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
