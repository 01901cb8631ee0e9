package deliver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// channelGone reports whether Slack refused a post, or a look into a
// thread, because the card's channel can no longer take the bot's
// messages: it was archived or deleted, or the bot was removed from it.
// Slack refused the call, so nothing was posted.
func channelGone(err error) bool {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return false
	}
	switch se.Err {
	case "is_archived", "channel_not_found", "not_in_channel":
		return true
	}
	return false
}

// sendDirect sends msg, the reply to r for status that its card's channel
// refused (why), to the job's requester as a direct message, saying which
// channel it was for. It is tried at most once: the bot does not read
// direct messages, so it could not tell a message whose answer was lost
// from one never sent, and sending a second is worse than missing one. A
// try that certainly sent nothing (a rate limit) is forgotten, so that the
// next one may.
func (d *Deliverer) sendDirect(ctx context.Context, r job.Record, status xplenty.Status, msg render.Message, why error) error {
	id := r.JobID
	log := d.log.With("job_id", id, "status", status, "channel", r.Channel, "slack_error", SlackErrorCode(why))
	if !isUserID(r.Requester) {
		return fmt.Errorf("reply to job %d: the channel cannot take it and nobody started the job from Slack: %w", id, why)
	}
	first, err := d.store.MarkDMAttempt(ctx, id, status, d.opts.Consumer)
	if err != nil {
		return err
	}
	if !first {
		log.Warn("a direct message of this reply was tried and may have gone; not sending it again", "user", r.Requester)
		return d.markDelivered(ctx, id, status, store.DeliveredDM)
	}
	log.Info("the card's channel cannot take the reply; sending it to the requester", "user", r.Requester)
	ts, err := d.poster.Post(ctx, r.Requester, render.DirectReply(msg, r.Channel), "", replyMeta(id, status))
	if err != nil {
		if notPosted(err) {
			d.clearDMAttempt(ctx, id, status)
		}
		return fmt.Errorf("direct message for job %d: %w", id, err)
	}
	return d.markDelivered(ctx, id, status, store.DeliveredDM+ts)
}

// clearDMAttempt forgets a direct message that certainly was not sent.
func (d *Deliverer) clearDMAttempt(ctx context.Context, id int64, status xplenty.Status) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := d.store.ClearDMAttempt(ctx, id, status); err != nil {
		d.log.Warn("clear direct message attempt", "job_id", id, "err", err)
	}
}

// isUserID reports whether s looks like a Slack user id, which
// chat.postMessage takes as the channel of a direct message.
func isUserID(s string) bool {
	if len(s) < 2 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	return strings.IndexFunc(s[1:], func(c rune) bool { return (c < 'A' || c > 'Z') && (c < '0' || c > '9') }) < 0
}
