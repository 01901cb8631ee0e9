package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"

	"github.com/slack-go/slack"
)

// pending is a run waiting for its runner's confirmation, kept in Redis
// until it expires (the policy's confirm_within).
type pending struct {
	User    string `json:"user"`
	Channel string `json:"channel"`
	Action  string `json:"action"` // run or rerun
	Launch  launch `json:"launch"`
}

// askConfirm shows the runner, and only them, what would start and the
// buttons to start it; nothing starts until they click.
func (b *Bot) askConfirm(ctx context.Context, req Request, l launch, action, reason string) string {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		b.log.Error("confirmation token", "err", err)
		return "error"
	}
	token := hex.EncodeToString(raw[:])
	data, err := json.Marshal(pending{User: req.UserID, Channel: req.ChannelID, Action: action, Launch: l})
	if err != nil {
		b.log.Error("encode confirmation", "err", err)
		return "error"
	}
	within := b.cfg.Policy.ConfirmWithin()
	if err := b.cfg.Store.SavePending(ctx, token, data, within); err != nil {
		b.log.Error("save confirmation", "err", err)
		b.answer(ctx, req, "I could not reach my database, so nothing was started. Please try again in a minute.")
		return "error"
	}
	b.audit(ctx, req, "confirm", l, 0, "asked", reason)
	b.answerMessage(ctx, req, render.ConfirmPrompt(l.starting(req.UserID), reason, token, within), false)
	return "confirm"
}

// confirm starts a run its runner confirmed. Only the runner can confirm;
// of two clicks, one starts the job (the pending run is taken atomically).
func (b *Bot) confirm(ctx context.Context, req Request, token string) string {
	p, err := b.peekPending(ctx, token)
	if errors.Is(err, store.ErrExpired) {
		b.audit(ctx, req, "confirm", launch{}, 0, "expired", "")
		b.answerMessage(ctx, req, textMessage("This confirmation has expired, so nothing was started. Run the command again."), true)
		return "expired"
	}
	if err != nil {
		b.log.Error("read confirmation", "err", err)
		b.answer(ctx, req, "I could not reach my database, so nothing was started. Please try again in a minute.")
		return "error"
	}
	if p.User != req.UserID {
		b.audit(ctx, req, "confirm", p.Launch, 0, "denied", "only the runner may confirm")
		b.answer(ctx, req, fmt.Sprintf("Only <@%s>, who asked for this run, can confirm it.", p.User))
		return "denied"
	}
	if _, err := b.cfg.Store.TakePending(ctx, token); err != nil {
		return "duplicate" // the other click took it
	}
	b.answerMessage(ctx, req, textMessage("Confirmed: starting the job…"), true)
	// The channel is the one the command was typed in, not where the
	// confirmation happened to be clicked.
	req.ChannelID = p.Channel
	return b.launch(ctx, req, p.Launch, p.Action, "confirmed by the runner")
}

// cancel drops a pending run.
func (b *Bot) cancel(ctx context.Context, req Request, token string) string {
	p, err := b.peekPending(ctx, token)
	if err != nil {
		b.answerMessage(ctx, req, textMessage("Nothing to cancel: the confirmation has expired."), true)
		return "expired"
	}
	if p.User != req.UserID {
		b.answer(ctx, req, fmt.Sprintf("Only <@%s>, who asked for this run, can cancel it.", p.User))
		return "denied"
	}
	if _, err := b.cfg.Store.TakePending(ctx, token); err != nil {
		return "duplicate"
	}
	b.audit(ctx, req, "cancel", p.Launch, 0, "cancelled", "")
	b.answerMessage(ctx, req, textMessage("Cancelled: nothing was started."), true)
	return "cancelled"
}

func (b *Bot) peekPending(ctx context.Context, token string) (pending, error) {
	var p pending
	data, err := b.cfg.Store.PeekPending(ctx, token)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("decode confirmation: %w", err)
	}
	return p, nil
}

func textMessage(text string) render.Message { return render.Message{Text: text} }

// audit records an action in the audit trail (Redis stream) and as a
// structured log line. Variables are masked; a failure to record is logged,
// never shown to the user.
func (b *Bot) audit(ctx context.Context, req Request, action string, l launch, jobID int64, outcome, detail string) {
	vars := ""
	if l.ClusterID != 0 || l.Preset != "" {
		vars = maskedText(l)
	}
	e := store.AuditEntry{
		Action: action, User: req.UserID, Channel: req.ChannelID, Preset: l.Preset,
		ClusterID: l.ClusterID, PackageID: l.PackageID, JobID: jobID,
		Variables: vars, Outcome: outcome, Detail: detail,
	}
	b.log.Info("audit", "action", action, "user", req.UserID, "channel", req.ChannelID, "preset", l.Preset,
		"cluster_id", l.ClusterID, "package_id", l.PackageID, "job_id", jobID, "run", vars,
		"outcome", outcome, "detail", detail)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := b.cfg.Store.Audit(actx, e); err != nil {
		b.log.Error("write audit entry", "action", action, "err", err)
	}
}

// answerMessage tells only the person who acted, with blocks; replace
// swaps the message they clicked in (a confirmation) for this one.
func (b *Bot) answerMessage(ctx context.Context, req Request, m render.Message, replace bool) {
	m.Text = render.FitText(m.Text) // too long is cut, never refused
	if req.ResponseURL != "" {
		msg := &slack.WebhookMessage{Text: m.Text, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: replace}
		if len(m.Blocks) > 0 {
			msg.Blocks = &slack.Blocks{BlockSet: m.Blocks}
		}
		err := slack.PostWebhookCustomHTTPContext(ctx, req.ResponseURL, b.cfg.HTTPClient, msg)
		if err == nil {
			return
		}
		// The response_url is a bearer capability: keep it out of the log.
		b.log.Warn("answer through response_url", "err", strings.ReplaceAll(err.Error(), req.ResponseURL, "<response_url>"))
	}
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	if _, err := b.cfg.Slack.PostEphemeralContext(ctx, req.ChannelID, req.UserID, opts...); err != nil {
		b.log.Warn("answer with an ephemeral message", "err", err)
	}
}
