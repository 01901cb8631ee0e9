package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/render"
)

// SlashCommand is the command this bot answers; the Slack app manifest
// (deploy/slack-app-manifest.yaml) declares it.
const SlashCommand = "/runjob"

// SocketMode runs the bot on a Socket Mode connection.
type SocketMode struct {
	bot       *Bot
	client    *socketmode.Client
	connected atomic.Bool
	// OnConnected, when set, is called each time the connection is up.
	OnConnected func()
}

// NewSocketMode returns a SocketMode taking events from client.
func NewSocketMode(b *Bot, client *socketmode.Client) *SocketMode {
	return &SocketMode{bot: b, client: client}
}

// Connected reports whether the Socket Mode connection is up (readiness).
func (s *SocketMode) Connected() bool { return s.connected.Load() }

// Run connects and handles events until ctx ends; then it stops taking
// events (the connection closes, so Slack sends new ones to other replicas)
// and returns. Work in flight is waited for by Bot.Shutdown.
// It returns an error only when Slack refuses the app token.
func (s *SocketMode) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fatal := make(chan error, 1)
	go func() {
		// RunContext returns when a (re)connection fails; keep trying,
		// with backoff, unless the token itself is refused.
		wait := time.Second
		for ctx.Err() == nil {
			err := s.client.RunContext(ctx)
			if ctx.Err() != nil {
				return
			}
			if isAuthError(err) {
				fatal <- err
				return
			}
			s.connected.Store(false)
			s.bot.log.Warn("socket mode connection failed, reconnecting", "err", err, "in", wait)
			if !loop.Sleep(ctx, wait) {
				return
			}
			wait = min(wait*2, time.Minute)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			s.connected.Store(false)
			return nil
		case err := <-fatal:
			s.connected.Store(false)
			return err
		case evt := <-s.client.Events:
			s.dispatchSafely(ctx, evt)
		}
	}
}

// dispatch acks first, then hands the work to a tracked goroutine: the
// event loop must never block, or Slack's pings and envelopes are lost.
func (s *SocketMode) dispatch(ctx context.Context, evt socketmode.Event) {
	log := s.bot.log
	switch evt.Type {
	case socketmode.EventTypeConnected:
		s.connected.Store(true)
		log.Info("connected to Slack")
		if s.OnConnected != nil {
			s.OnConnected()
		}
	case socketmode.EventTypeConnecting:
		log.Debug("connecting to Slack")
	case socketmode.EventTypeDisconnect, socketmode.EventTypeConnectionError:
		s.connected.Store(false)
		log.Info("disconnected from Slack", "type", evt.Type)
	case socketmode.EventTypeInvalidAuth:
		s.connected.Store(false)
		log.Error("Slack refused the app token (invalid_auth)")
	case socketmode.EventTypeSlashCommand:
		if evt.Request == nil {
			return
		}
		s.ack(evt.Request)
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			log.Warn("slash command with an unexpected payload")
			return
		}
		if cmd.Command != SlashCommand {
			log.Warn("unexpected slash command", "command", cmd.Command)
			return
		}
		req := Request{UserID: cmd.UserID, ChannelID: cmd.ChannelID, ResponseURL: cmd.ResponseURL,
			EventKey: eventKey(cmd.TriggerID, evt.Request.EnvelopeID), TriggerID: cmd.TriggerID}
		s.spawn(ctx, func(ctx context.Context) { s.bot.HandleCommand(ctx, req, cmd.Text) })
	case socketmode.EventTypeInteractive:
		if evt.Request == nil {
			return
		}
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			s.ack(evt.Request)
			return
		}
		if cb.View.CallbackID == render.FormCallbackID {
			s.dispatchForm(ctx, evt.Request, cb)
			return
		}
		s.ack(evt.Request)
		if cb.Type != slack.InteractionTypeBlockActions {
			return
		}
		if cb.View.Type == slack.VTHomeTab {
			for i, a := range cb.ActionCallback.BlockActions {
				req := Request{UserID: cb.User.ID, TriggerID: cb.TriggerID,
					EventKey: eventKey(cb.TriggerID, evt.Request.EnvelopeID) + ":" + strconv.Itoa(i)}
				action, value := a.ActionID, a.Value
				s.spawn(ctx, func(ctx context.Context) { s.bot.HandleHomeAction(ctx, req, action, value) })
			}
			return
		}
		for i, a := range cb.ActionCallback.BlockActions {
			req := Request{UserID: cb.User.ID, ChannelID: cb.Channel.ID, ResponseURL: cb.ResponseURL,
				EventKey: eventKey(cb.TriggerID, evt.Request.EnvelopeID) + ":" + strconv.Itoa(i), TriggerID: cb.TriggerID}
			if req.ChannelID == "" {
				req.ChannelID = cb.Container.ChannelID
			}
			action, value := a.ActionID, a.Value
			s.spawn(ctx, func(ctx context.Context) { s.bot.HandleAction(ctx, req, action, value) })
		}
	case socketmode.EventTypeEventsAPI:
		if evt.Request != nil {
			s.ack(evt.Request)
		}
		e, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			log.Warn("events API envelope with an unexpected payload", "type", fmt.Sprintf("%T", evt.Data))
			return
		}
		log.Debug("event", "type", e.InnerEvent.Type)
		// The one event subscribed to: a person opened the Home tab.
		if home, ok := e.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok && home.Tab == "home" && home.User != "" {
			user := home.User
			s.spawn(ctx, func(ctx context.Context) { s.bot.HomeOpened(ctx, user, "") })
		}
	}
}

func (s *SocketMode) ack(req *socketmode.Request) {
	if err := s.client.Ack(*req); err != nil {
		s.bot.log.Warn("ack", "envelope", req.EnvelopeID, "err", err)
	}
}

func (s *SocketMode) spawn(ctx context.Context, fn func(context.Context)) {
	if err := s.bot.Go(ctx, fn); err != nil {
		s.bot.log.Warn("event dropped while shutting down")
	}
}

// eventKey names an event the same way in every redelivery and on every
// replica: Slack's trigger_id, unique per command or click, else the
// envelope id.
func eventKey(triggerID, envelopeID string) string {
	if triggerID != "" {
		return "trigger:" + triggerID
	}
	return "envelope:" + envelopeID
}

func isAuthError(err error) bool {
	if err == nil {
		return false
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "not_allowed_token_type":
			return true
		}
	}
	s := err.Error()
	return strings.Contains(s, "invalid_auth") || strings.Contains(s, "not_allowed_token_type")
}

// dispatchForm handles what Slack sends from the run form. A search
// (block_suggestion) and a submission (view_submission) are acked with
// their answer, the options or the errors, so they are acked from the
// tracked goroutine, within Slack's 3 s (the form's catalog reads are
// bounded well within it); anything else is acked at once.
func (s *SocketMode) dispatchForm(ctx context.Context, r *socketmode.Request, cb slack.InteractionCallback) {
	v := formView(cb.View)
	req := Request{UserID: cb.User.ID, TriggerID: cb.TriggerID, EventKey: eventKey(cb.TriggerID, r.EnvelopeID)}
	switch cb.Type {
	case slack.InteractionTypeBlockSuggestion:
		s.spawn(ctx, func(ctx context.Context) {
			s.ackWith(r, render.Options(s.bot.FormOptions(ctx, req, v, cb.ActionID, cb.Value)))
		})
	case slack.InteractionTypeViewSubmission:
		s.spawn(ctx, func(ctx context.Context) {
			errs, run := s.bot.SubmitForm(ctx, req, v)
			if len(errs) > 0 {
				s.ackWith(r, slack.NewErrorsViewSubmissionResponse(errs))
				return
			}
			s.ack(r)
			run(ctx)
		})
	case slack.InteractionTypeBlockActions:
		s.ack(r)
		for _, a := range cb.ActionCallback.BlockActions {
			if a.ActionID == render.FormPackage {
				v.Package = a.SelectedOption.Value
				s.spawn(ctx, func(ctx context.Context) { s.bot.FormPackageChosen(ctx, req, v) })
			}
		}
	default:
		s.ack(r)
	}
}

// formView reads the run form's state from the view Slack sent.
func formView(view slack.View) FormView {
	v := FormView{ID: view.ID, Hash: view.Hash, Metadata: view.PrivateMetadata}
	if view.State == nil {
		return v
	}
	for _, actions := range view.State.Values {
		for id, a := range actions {
			switch id {
			case render.FormPackage:
				v.Package = a.SelectedOption.Value
			case render.FormCluster:
				v.Cluster = a.SelectedOption.Value
			case render.FormVariables:
				v.Variables = a.Value
			}
		}
	}
	return v
}

func (s *SocketMode) ackWith(req *socketmode.Request, payload any) {
	if err := s.client.Ack(*req, payload); err != nil {
		s.bot.log.Warn("ack", "envelope", req.EnvelopeID, "err", err)
	}
}
