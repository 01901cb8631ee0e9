package deliver

import (
	"context"

	"github.com/slack-go/slack"
)

// The run form's views go through Poster.call like every other Slack call:
// counted by OnCall and 429s waited out. views.open and views.update are
// Tier 4 methods (100+ calls a minute) with no budget of their own; they
// come one per command, click or choice in a form.

// OpenView opens a modal for the person whose command or click gave
// triggerID (Slack takes it for 3 s, once). It is not retried but on 429:
// a view opened twice would show twice.
func (p *Poster) OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.View, error) {
	var v *slack.View
	err := p.call(ctx, "views.open", "", false, func(ctx context.Context) error {
		resp, err := p.api.OpenViewContext(ctx, triggerID, view)
		if resp != nil {
			v = &resp.View
		}
		return err
	})
	return v, err
}

// UpdateView replaces an open modal's view. hash, when set, makes Slack
// refuse the update (hash_conflict) if the view changed since it was read.
// Replacing a view with the same one twice shows the same thing, so
// transient failures are retried too.
func (p *Poster) UpdateView(ctx context.Context, viewID, hash string, view slack.ModalViewRequest) error {
	return p.call(ctx, "views.update", "", true, func(ctx context.Context) error {
		_, err := p.api.UpdateViewContext(ctx, view, "", hash, viewID)
		return err
	})
}

// PublishHome publishes a person's Home tab (views.publish, Tier 4: no
// budget of its own). Publishing the same view twice shows the same thing,
// so transient failures are retried.
func (p *Poster) PublishHome(ctx context.Context, user string, view slack.HomeTabViewRequest) error {
	return p.call(ctx, "views.publish", "", true, func(ctx context.Context) error {
		_, err := p.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view})
		return err
	})
}

// maxUserChannelPages bounds the pages (of 200) UserChannels reads.
const maxUserChannelPages = 10

// UserChannels lists the channels a person is in that the bot can see
// (users.conversations: public and private channels; Tier 3, paced by the
// workspace's "channels" budget). Idempotent: transient
// failures are retried. truncated reports a list cut at 2,000 channels.
func (p *Poster) UserChannels(ctx context.Context, user string) (channels []string, truncated bool, err error) {
	cursor := ""
	for range maxUserChannelPages {
		var page []slack.Channel
		var next string
		err := p.call(ctx, "users.conversations", "", true, func(ctx context.Context) error {
			var err error
			page, next, err = p.api.GetConversationsForUserContext(ctx, &slack.GetConversationsForUserParameters{
				UserID: user, Cursor: cursor, Types: []string{"public_channel", "private_channel"}, Limit: 200,
			})
			return err
		})
		if err != nil {
			return nil, false, err
		}
		for _, c := range page {
			channels = append(channels, c.ID)
		}
		if next == "" {
			return channels, false, nil
		}
		cursor = next
	}
	return channels, true, nil
}
