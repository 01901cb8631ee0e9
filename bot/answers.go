package bot

import (
	"context"
	"errors"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
)

// Answers: what the bot tells the one person who acted.

// refusal is the reason to show for an Xplenty error, as raw text (escape
// it, or let the renderer do it): the server's own message when there is
// one, else a safe summary.
func refusal(err error) string {
	var er *xplenty.ErrorResponse
	switch {
	case errors.As(err, &er) && er.ServerMessage() != "":
		return er.ServerMessage()
	case xplenty.IsUnauthorized(err):
		return "the bot's Xplenty API key was refused."
	case xplenty.IsRateLimited(err):
		return "Xplenty's rate limit is used up; try again in a few minutes."
	}
	return "Xplenty could not be reached; try again in a minute."
}

// statusCode is the HTTP status of an Xplenty error, 0 when there was none.
func statusCode(err error) int {
	var er *xplenty.ErrorResponse
	if errors.As(err, &er) {
		return er.StatusCode
	}
	return 0
}

// maxReason bounds Xplenty's reason where the bot repeats it: an answer,
// a card, an audit entry, a log line.
const maxReason = 500

// reasonText is Xplenty's reason for refusing r, ready for an answer, a
// card, the audit trail and the log: the launch's secret values scrubbed
// from the raw message first, then the text collapsed onto one line and
// shortened (in that order, so that a secret holding two spaces or
// crossing the length limit is still found). It is raw text: escape it, or
// let the renderer do it.
func reasonText(r commands.Run, err error) string {
	return render.NewScrubber(r.SecretNames, r.Variables, r.DynamicVariables).Summary(refusal(err), maxReason)
}

// cannotPost explains why the card could not be posted.
func cannotPost(err error) string {
	switch deliver.SlackErrorCode(err) {
	case "not_in_channel", "channel_not_found":
		return "I can't post in this channel, so I did not start the job (nobody could follow it). Invite me first: type `/invite @runjob` here, then run the command again."
	case "is_archived":
		return "This channel is archived, so I did not start the job."
	}
	return "Slack did not accept the job card, so I did not start the job. Please try again in a minute."
}

// answer tells only the person who acted.
func (b *Bot) answer(ctx context.Context, req Request, text string) {
	b.answerMessage(ctx, req, textMessage(text), false)
}

func textMessage(text string) render.Message { return render.Message{Text: text} }

// answerMessage tells only the person who acted, with blocks; replace
// swaps the message they clicked in (a confirmation) for this one. It goes
// through the poster: the response_url first, else an ephemeral message.
func (b *Bot) answerMessage(ctx context.Context, req Request, m render.Message, replace bool) {
	to := deliver.Recipient{ResponseURL: req.ResponseURL, Channel: req.ChannelID, User: req.UserID}
	if err := b.cfg.Poster.Answer(ctx, to, m, replace); err != nil {
		b.log.Warn("answer", "user", req.UserID, "err", err)
	}
}
