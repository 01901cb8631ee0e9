package deliver

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/notifier/render"
)

// Answers to one person and group lookups go through Poster.call like
// posts and edits: counted by OnCall, 429s waited out, other failures
// retried only when a retry cannot show anything twice.
//
// Pacing: neither kind of answer spends a budget. A response_url is not a
// Web API method (Slack takes up to five posts to each within 30 minutes),
// and chat.postEphemeral is a Tier 4 method (100+ calls a minute) whose
// messages do not count against a channel's chat.postMessage pace; answers
// come one per command or click. usergroups.users.list, a Tier 2 method
// (about 20 calls a minute), spends the workspace's groups budget.

// Recipient is the one person an answer is for: the response_url of their
// command or click, and the channel and user an ephemeral message falls
// back to.
type Recipient struct {
	// ResponseURL is a bearer capability: whoever has it can post as the
	// bot. It is never logged nor returned in an error.
	ResponseURL string
	Channel     string
	User        string
}

// Answer shows m to one person only: through the response_url (replace
// swaps the message they clicked in for this one), or, when there is none
// or it fails, as an ephemeral message in their channel (replace is then
// moot). The text is cut to Slack's limit, never refused. A post that may
// have been shown is not retried; a 429 is waited out. The error is the
// ephemeral message's (with the response_url's, when it failed first).
func (p *Poster) Answer(ctx context.Context, to Recipient, m render.Message, replace bool) error {
	m.Text = render.FitText(m.Text)
	var urlErr error
	if to.ResponseURL != "" {
		urlErr = p.respond(ctx, to.ResponseURL, m, replace)
		if urlErr == nil {
			return nil
		}
		if to.Channel == "" || to.User == "" {
			return urlErr
		}
		p.opts.Logger.Warn("answer through response_url failed, answering with an ephemeral message", "err", urlErr)
	}
	opts := msgOptions(m)
	err := p.call(ctx, "chat.postEphemeral", to.Channel, false, func(ctx context.Context) error {
		_, err := p.api.PostEphemeralContext(ctx, to.Channel, to.User, opts...)
		return err
	})
	if err != nil && urlErr != nil {
		return errors.Join(urlErr, err)
	}
	return err
}

// respond posts m to a response_url as an ephemeral answer.
func (p *Poster) respond(ctx context.Context, responseURL string, m render.Message, replace bool) error {
	msg := &slack.WebhookMessage{Text: m.Text, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: replace}
	if len(m.Blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: m.Blocks}
	}
	return p.call(ctx, "response_url", "", false, func(ctx context.Context) error {
		return hideURL(slack.PostWebhookCustomHTTPContext(ctx, responseURL, p.opts.HTTPClient, msg), responseURL)
	})
}

// UserGroupMembers lists the members of a Slack user group
// (usergroups.users.list). A lookup is idempotent: transient failures are
// retried as well.
func (p *Poster) UserGroupMembers(ctx context.Context, group string) ([]string, error) {
	var members []string
	err := p.call(ctx, "usergroups.users.list", "", true, func(ctx context.Context) error {
		var err error
		members, err = p.api.GetUserGroupMembersContext(ctx, group)
		return err
	})
	return members, err
}

// hiddenURL is placed where a response_url was in an error's text.
const hiddenURL = "<response_url>"

// hideURL returns err with secretURL kept out of its text and out of
// anything it unwraps to; what it unwraps to still says whether the
// failure was a timeout or a network error (IsRetryable).
func hideURL(err error, secretURL string) error {
	if err == nil || secretURL == "" || !strings.Contains(err.Error(), secretURL) {
		return err
	}
	h := &urlHiddenError{msg: strings.ReplaceAll(err.Error(), secretURL, hiddenURL)}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil && !strings.Contains(ue.Err.Error(), secretURL) {
		h.cause = ue.Err
	}
	return h
}

// urlHiddenError is an error whose text had a response_url in it.
type urlHiddenError struct {
	msg   string
	cause error // what the url.Error wrapped, if it does not hold the URL
}

func (e *urlHiddenError) Error() string { return e.msg }
func (e *urlHiddenError) Unwrap() error { return e.cause }
