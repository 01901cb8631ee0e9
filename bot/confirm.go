package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
)

// askConfirm shows the runner, and only them, what would start and the
// buttons to start it; nothing starts until they click. The run waits in
// Redis (store.Pending) until the policy's confirm_within runs out.
func (b *Bot) askConfirm(ctx context.Context, req Request, r commands.Run, verb, reason string) result {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		b.log.Error("confirmation token", "err", err)
		return end(Error)
	}
	token := hex.EncodeToString(raw[:])
	within := b.cfg.Policy.ConfirmWithin()
	p := store.Pending{User: req.UserID, Channel: req.ChannelID, Action: verb, Run: r}
	if err := b.cfg.Store.SavePending(ctx, token, p, within); err != nil {
		b.log.Error("save confirmation", "err", err)
		return end(Error).say("I could not reach my database, so nothing was started. Please try again in a minute.")
	}
	return end(Confirm).audit(auditNote{action: "confirm", run: r, outcome: "asked", detail: reason}).
		show(render.ConfirmPrompt(render.Starting{Requester: req.UserID, Run: r}, reason, token, within), false)
}

// confirmAct is a click on Confirm: it starts the run its runner
// confirmed. Only the runner can confirm; of two clicks, one starts the job
// (the pending run is taken atomically). The run was judged by the policy
// when it was asked for.
func (b *Bot) confirmAct(ctx context.Context, req Request, token string) (act, result) {
	p, err := b.cfg.Store.PeekPending(ctx, token)
	if errors.Is(err, store.ErrExpired) {
		return act{}, end(Expired).audit(auditNote{action: "confirm", outcome: "expired"}).
			show(textMessage("This confirmation has expired, so nothing was started. Run the command again."), true)
	}
	if err != nil {
		b.log.Error("read confirmation", "err", err)
		return act{}, end(Error).say("I could not reach my database, so nothing was started. Please try again in a minute.")
	}
	if p.User != req.UserID {
		return act{}, end(Denied).audit(auditNote{action: "confirm", run: p.Run, outcome: "denied", detail: "only the runner may confirm"}).
			say(fmt.Sprintf("Only <@%s>, who asked for this run, can confirm it.", p.User))
	}
	return act{verb: p.Action, do: func(ctx context.Context, req Request, _ string) result {
		if _, err := b.cfg.Store.TakePending(ctx, token); err != nil {
			return end(Duplicate) // the other click took it
		}
		b.answerMessage(ctx, req, textMessage("Confirmed: starting the job…"), true)
		// The channel is the one the command was typed in, not where the
		// confirmation happened to be clicked.
		there := req
		there.ChannelID = p.Channel
		res := b.launch(ctx, there, p.Run, p.Action, "allowed by rule confirmed by the runner")
		res.note.channel = p.Channel
		return res
	}}, end(proceed)
}

// cancelAct is a click on Cancel: it drops a pending run.
func (b *Bot) cancelAct(ctx context.Context, req Request, token string) (act, result) {
	p, err := b.cfg.Store.PeekPending(ctx, token)
	if err != nil {
		return act{}, end(Expired).show(textMessage("Nothing to cancel: the confirmation has expired."), true)
	}
	if p.User != req.UserID {
		return act{}, end(Denied).say(fmt.Sprintf("Only <@%s>, who asked for this run, can cancel it.", p.User))
	}
	return act{verb: "cancel", do: func(ctx context.Context, req Request, _ string) result {
		if _, err := b.cfg.Store.TakePending(ctx, token); err != nil {
			return end(Duplicate)
		}
		return end(Cancelled).audit(auditNote{action: "cancel", run: p.Run, outcome: "cancelled"}).
			show(textMessage("Cancelled: nothing was started."), true)
	}}, end(proceed)
}
