package bot

import (
	"context"

	"github.com/slack-go/slack/socketmode"

	"github.com/runjob/runjob/notifier/loop"
)

// recoverEnvelope, deferred where the handling of one envelope runs,
// recovers a panic in it: logged with its stack (never the event, which may
// hold secret values), counted, and the bot carries on with the next one.
// The envelope was acked first, so Slack does not send it again.
func (b *Bot) recoverEnvelope() {
	v := recover()
	if v == nil {
		return
	}
	loop.LogPanic(b.log, "envelope", v)
	if b.cfg.OnPanic != nil {
		b.cfg.OnPanic()
	}
}

// dispatchSafely is dispatch with a panic in it recovered, so that the
// event loop keeps reading Slack's events.
func (s *SocketMode) dispatchSafely(ctx context.Context, evt socketmode.Event) {
	defer s.bot.recoverEnvelope()
	s.dispatch(ctx, evt)
}
