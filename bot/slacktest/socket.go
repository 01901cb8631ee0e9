package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Envelope types, as in the "type" field Slack sends.
const (
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
)

// maxAutoRetries is how often Slack retries an unacknowledged envelope
// (https://docs.slack.dev/apis/events-api/using-socket-mode).
const maxAutoRetries = 3

// maxFrameBytes bounds what the fake reads from a client; Slack drops responses
// of 20 KB and more, so acks are far smaller.
const maxFrameBytes = 1 << 20

// SlashCommand is a /runjob (or other) command typed by a user.
type SlashCommand struct {
	UserID      string
	UserName    string // default: SetUserName's or the id in lower case
	ChannelID   string
	ChannelName string // default: the id in lower case
	Command     string // default "/runjob"
	// Text is what the user typed. Like Slack, the fake sends it with &, <
	// and > escaped as &amp;, &lt; and &gt; (see EscapeText), unless Raw.
	Text string
	// Raw sends Text exactly as given, for tests that inject the markup
	// Slack may add (<http://db.example.com|db.example.com>, <@U123>,
	// <!here>) or escaping of their own. The app manifest sets
	// should_escape false, so Slack only guarantees the &, <, > escaping;
	// turning typed links and mentions into markup is left to such tests.
	Raw bool
}

// slackEscaper escapes what Slack escapes in the text of messages and slash
// commands: exactly &, < and >.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// EscapeText is text as Slack sends it when a user typed it: &, < and >
// become &amp;, &lt; and &gt;, and nothing else changes. SendSlashCommand
// applies it to SlashCommand.Text unless Raw is set.
func EscapeText(typed string) string { return slackEscaper.Replace(typed) }

// BlockAction is a click on an interactive element of a stored message.
type BlockAction struct {
	UserID    string
	UserName  string // default: SetUserName's or the id in lower case
	ChannelID string
	MessageTS string
	ActionID  string
	// Value overrides the clicked element's value; leave it empty to send the
	// value the message carries, as Slack does.
	Value string
}

// wsConn is one Socket Mode websocket.
type wsConn struct {
	id      int
	ws      *websocket.Conn
	writeMu sync.Mutex // gorilla allows one writer at a time
	once    sync.Once
	gone    chan struct{}
}

func (c *wsConn) write(ctx context.Context, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	deadline := time.Now().Add(writeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.ws.SetWriteDeadline(deadline); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

// close closes the socket without a close frame, which is what a crash looks like.
func (c *wsConn) close() {
	c.once.Do(func() {
		close(c.gone)
		_ = c.ws.Close()
	})
}

// envelope is a Socket Mode request the fake sent, kept for redeliveries and acks.
type envelope struct {
	idx          int // in Server.envOrder
	id           string
	typ          string
	payload      json.RawMessage
	accepts      bool
	retryAttempt int
	retryReason  string
	firstSent    time.Time
	deliveries   []Delivery
	acked        bool
	target       *responseTarget // where an ack payload goes (slash commands)
	// onFirstAck, when set, applies the payload of the envelope's first ack
	// (a view_submission's response_action, a block_suggestion's options).
	// It runs under s.mu.
	onFirstAck func(payload json.RawMessage)
}

// publishEnvelopeLocked makes the current state of env what snapshots see.
func (s *Server) publishEnvelopeLocked(env *envelope) {
	e := env.snapshot()
	if env.idx == len(s.envPublished) {
		s.envPublished = append(s.envPublished, &e)
	} else {
		s.envPublished[env.idx] = &e
	}
}

func (e *envelope) snapshot() Envelope {
	return Envelope{
		ID:           e.id,
		Type:         e.typ,
		Payload:      e.payload,
		RetryAttempt: e.retryAttempt,
		Deliveries:   e.deliveries[:len(e.deliveries):len(e.deliveries)],
		Acked:        e.acked,
	}
}

// frame renders the envelope as Slack sends it; retry fields only on redeliveries.
func (e *envelope) frame() []byte {
	b, _ := json.Marshal(struct {
		EnvelopeID             string          `json:"envelope_id"`
		Payload                json.RawMessage `json:"payload"`
		Type                   string          `json:"type"`
		AcceptsResponsePayload bool            `json:"accepts_response_payload"`
		RetryAttempt           int             `json:"retry_attempt,omitempty"`
		RetryReason            string          `json:"retry_reason,omitempty"`
	}{e.id, e.payload, e.typ, e.accepts, e.retryAttempt, e.retryReason})
	return b
}

// blockActionsPayload is the payload of an interactive envelope for a click, in
// the field order of Slack's examples; slack.InteractionCallback decodes it.
type blockActionsPayload struct {
	Type                string           `json:"type"`
	User                payloadUser      `json:"user"`
	APIAppID            string           `json:"api_app_id"`
	Token               string           `json:"token"`
	Container           payloadContainer `json:"container"`
	TriggerID           string           `json:"trigger_id"`
	Team                payloadTeam      `json:"team"`
	Enterprise          json.RawMessage  `json:"enterprise"`
	IsEnterpriseInstall bool             `json:"is_enterprise_install"`
	Channel             payloadChannel   `json:"channel"`
	Message             *wireMessage     `json:"message,omitempty"`
	State               json.RawMessage  `json:"state"`
	ResponseURL         string           `json:"response_url"`
	Actions             []payloadAction  `json:"actions"`
}

type payloadUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
}

type payloadContainer struct {
	Type        string `json:"type"`
	MessageTS   string `json:"message_ts"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	ChannelID   string `json:"channel_id"`
	IsEphemeral bool   `json:"is_ephemeral"`
}

type payloadTeam struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

type payloadChannel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type payloadAction struct {
	ActionID string `json:"action_id"`
	BlockID  string `json:"block_id"`
	Text     any    `json:"text,omitempty"`
	Value    string `json:"value,omitempty"`
	Style    string `json:"style,omitempty"`
	Type     any    `json:"type"`
	ActionTS string `json:"action_ts"`
}

// slashPayload is the payload of a slash_commands envelope; slack.SlashCommand
// decodes it. is_enterprise_install is the string "false", not a boolean:
// Socket Mode sends a slash command's form fields as JSON strings (slack-go
// issue #1265); slack.SlashCommand.UnmarshalJSON in v0.35.0 reads both.
type slashPayload struct {
	Token               string `json:"token"`
	TeamID              string `json:"team_id"`
	TeamDomain          string `json:"team_domain"`
	ChannelID           string `json:"channel_id"`
	ChannelName         string `json:"channel_name"`
	UserID              string `json:"user_id"`
	UserName            string `json:"user_name"`
	Command             string `json:"command"`
	Text                string `json:"text"`
	APIAppID            string `json:"api_app_id"`
	IsEnterpriseInstall string `json:"is_enterprise_install"`
	ResponseURL         string `json:"response_url"`
	TriggerID           string `json:"trigger_id"`
}

// helloFrame is the first frame of every connection.
type helloFrame struct {
	Type           string         `json:"type"`
	NumConnections int            `json:"num_connections"`
	DebugInfo      debugInfo      `json:"debug_info"`
	ConnectionInfo connectionInfo `json:"connection_info"`
}

type connectionInfo struct {
	AppID string `json:"app_id"`
}

type debugInfo struct {
	Host                      string `json:"host"`
	BuildNumber               int    `json:"build_number,omitempty"`
	ApproximateConnectionTime int    `json:"approximate_connection_time,omitempty"`
}

// handleSocket upgrades a Socket Mode connection opened with a ticket from
// apps.connections.open, says hello, then reads acks until the socket closes.
func (s *Server) handleSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	if !s.tickets[ticket] {
		s.mu.Unlock()
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	delete(s.tickets, ticket) // tickets are single use, like Slack's
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	ws.SetReadLimit(maxFrameBytes)

	s.mu.Lock()
	s.connSeq++
	c := &wsConn{id: s.connSeq, ws: ws, gone: make(chan struct{})}
	hello, _ := json.Marshal(helloFrame{
		Type:           "hello",
		NumConnections: len(s.conns) + 1,
		DebugInfo:      debugInfo{Host: "fake", BuildNumber: 1, ApproximateConnectionTime: 18060},
		ConnectionInfo: connectionInfo{AppID: AppID},
	})
	s.mu.Unlock()

	// Say hello before the connection can be picked, so no envelope precedes it.
	if err := c.write(context.Background(), hello); err != nil {
		c.close()
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return
	}
	s.conns = append(s.conns, c)
	s.connects++
	s.notifyLocked()
	s.mu.Unlock()

	ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		s.pongs++
		s.notifyLocked()
		s.mu.Unlock()
		return nil
	})
	s.wg.Go(func() { s.pingLoop(c) })
	s.readLoop(c)
	s.removeConn(c)
}

// pingLoop pings c every PingInterval; slack-go reconnects when pings stop.
func (s *Server) pingLoop(c *wsConn) {
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.gone:
			return
		case <-s.done:
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(writeTimeout)); err != nil {
				return // the read loop notices the broken socket
			}
			s.mu.Lock()
			s.pings++
			s.notifyLocked()
			s.mu.Unlock()
		}
	}
}

// readLoop records the acks arriving on c until the socket fails. Reading also
// runs gorilla's control handlers: pongs to client pings, the pong counter.
func (s *Server) readLoop(c *wsConn) {
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.TextMessage {
			continue
		}
		var res struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &res) != nil || res.EnvelopeID == "" {
			continue // Slack ignores what is not an ack
		}
		s.recordAck(c, res.EnvelopeID, res.Payload)
	}
}

func (s *Server) removeConn(c *wsConn) {
	s.mu.Lock()
	if i := slices.Index(s.conns, c); i >= 0 {
		s.conns = slices.Delete(s.conns, i, i+1)
		s.notifyLocked()
	}
	s.mu.Unlock()
	c.close()
}

func (s *Server) recordAck(c *wsConn, id string, payload json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ack := Ack{EnvelopeID: id, Payload: payload, AckedAt: time.Now(), Conn: c.id}
	if env, ok := s.envelopes[id]; ok {
		ack.SentAt, ack.RetryAttempt = env.firstSent, env.retryAttempt
		if !env.acked && env.onFirstAck != nil {
			env.onFirstAck(payload)
		}
		// Slack shows the payload of the first ack of a slash command to the user.
		if !env.acked && env.accepts && env.target != nil && len(payload) > 0 {
			if p, err := flattenJSON(payload); err == nil && len(p) > 0 {
				s.respondLocked(env.target, p, ViaAck)
			}
		}
		env.acked = true
		s.publishEnvelopeLocked(env)
	}
	if _, ok := s.firstAck[id]; !ok {
		s.firstAck[id] = len(s.acks)
	}
	s.acks = append(s.acks, ack)
	s.notifyLocked()
}

// SendSlashCommand sends a slash_commands envelope, with a fresh trigger_id and
// response_url, to the next connection (round robin, like Slack). The text is
// escaped as Slack escapes it (EscapeText) unless cmd.Raw. It returns the
// envelope id once the frame is written.
func (s *Server) SendSlashCommand(ctx context.Context, cmd SlashCommand) (string, error) {
	s.mu.Lock()
	if err := s.sendableLocked(); err != nil {
		s.mu.Unlock()
		return "", err
	}
	if cmd.Command == "" {
		cmd.Command = "/runjob"
	}
	if cmd.UserName == "" {
		cmd.UserName = s.userNameLocked(cmd.UserID)
	}
	if cmd.ChannelName == "" {
		cmd.ChannelName = strings.ToLower(cmd.ChannelID)
	}
	text := cmd.Text
	if !cmd.Raw {
		text = EscapeText(text)
	}
	s.joinLocked(cmd.ChannelID, cmd.UserID) // who types in a channel is in it
	target := &responseTarget{user: cmd.UserID, channel: cmd.ChannelID, fromSlash: true}
	payload, _ := json.Marshal(slashPayload{
		Token: VerificationToken, TeamID: TeamID, TeamDomain: TeamDomain,
		ChannelID: cmd.ChannelID, ChannelName: cmd.ChannelName,
		UserID: cmd.UserID, UserName: cmd.UserName,
		Command: cmd.Command, Text: text, APIAppID: AppID, IsEnterpriseInstall: "false",
		ResponseURL: s.newResponseURLLocked(target), TriggerID: s.triggerIDLocked(cmd.UserID),
	})
	env := s.newEnvelopeLocked(TypeSlashCommands, payload, true, target)
	return s.sendLocked(ctx, env, false)
}

// SendBlockAction sends an interactive block_actions envelope for a click on the
// element with a.ActionID in the stored message a.ChannelID/a.MessageTS, filling
// in the message, its block_id, the element's text and value, a trigger_id and a
// response_url, to the next connection. It fails if there is no such message or
// element, as a user cannot click a button that does not exist.
func (s *Server) SendBlockAction(ctx context.Context, a BlockAction) (string, error) {
	s.mu.Lock()
	if err := s.sendableLocked(); err != nil {
		s.mu.Unlock()
		return "", err
	}
	m, ok := s.byKey[msgKey{a.ChannelID, a.MessageTS}]
	if !ok || m.Deleted || (m.Ephemeral && m.User != a.UserID) {
		s.mu.Unlock()
		return "", fmt.Errorf("slacktest: user %s sees no message %s in %s", a.UserID, a.MessageTS, a.ChannelID)
	}
	elem, blockID, ok := findElement(m.Blocks, a.ActionID)
	if !ok {
		s.mu.Unlock()
		return "", fmt.Errorf("slacktest: message %s in %s has no element with action_id %q", a.MessageTS, a.ChannelID, a.ActionID)
	}
	if a.UserName == "" {
		a.UserName = s.userNameLocked(a.UserID)
	}
	if a.Value == "" {
		a.Value, _ = elem["value"].(string)
	}
	act := payloadAction{ActionID: a.ActionID, BlockID: blockID, Text: elem["text"], Value: a.Value, Type: elem["type"], ActionTS: s.nextTSLocked()}
	act.Style, _ = elem["style"].(string)

	target := &responseTarget{user: a.UserID, channel: a.ChannelID, source: m}
	var msg *wireMessage
	if !m.Ephemeral { // Slack leaves the message out for ephemeral ones
		w := s.wireLocked(m, false)
		msg = &w
	}
	payload, _ := json.Marshal(blockActionsPayload{
		Type:      "block_actions",
		User:      payloadUser{a.UserID, a.UserName, a.UserName, TeamID},
		APIAppID:  AppID,
		Token:     VerificationToken,
		Container: payloadContainer{"message", m.TS, m.ThreadTS, m.Channel, m.Ephemeral},
		TriggerID: s.triggerIDLocked(a.UserID),
		Team:      payloadTeam{TeamID, TeamDomain},
		// Slack sends "enterprise":null outside Enterprise Grid.
		Enterprise:  json.RawMessage("null"),
		Channel:     payloadChannel{a.ChannelID, strings.ToLower(a.ChannelID)},
		Message:     msg,
		State:       json.RawMessage(`{"values":{}}`),
		ResponseURL: s.newResponseURLLocked(target),
		Actions:     []payloadAction{act},
	})
	env := s.newEnvelopeLocked(TypeInteractive, payload, false, nil)
	return s.sendLocked(ctx, env, false)
}

// Redeliver sends envelope envelopeID again, with the same id and payload and
// retry_attempt increased (retry_reason "timeout"), to the next connection, which
// may be another replica, as Slack does with envelopes it saw no ack for.
func (s *Server) Redeliver(ctx context.Context, envelopeID string) error {
	s.mu.Lock()
	env, ok := s.envelopes[envelopeID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("slacktest: no envelope %q", envelopeID)
	}
	if err := s.sendableLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	env.retryAttempt++
	env.retryReason = "timeout"
	_, err := s.sendLocked(ctx, env, false)
	return err
}

// Broadcast sends envelope envelopeID, unchanged, to every open connection at
// once: the worst case of several replicas seeing the same event.
func (s *Server) Broadcast(ctx context.Context, envelopeID string) error {
	s.mu.Lock()
	env, ok := s.envelopes[envelopeID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("slacktest: no envelope %q", envelopeID)
	}
	_, err := s.sendLocked(ctx, env, true)
	return err
}

// SetAutoRedeliver makes the fake redeliver every envelope not acked within d, up
// to three times, like Slack (which waits 3 s). Zero, the default, turns it off
// for envelopes sent afterwards.
func (s *Server) SetAutoRedeliver(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoRedeliver = d
}

// SendDisconnect sends every connection a disconnect frame, as Slack does before
// it recycles a socket; slack-go then opens a new connection.
func (s *Server) SendDisconnect(reason string) {
	frame, _ := json.Marshal(struct {
		Type      string    `json:"type"`
		Reason    string    `json:"reason"`
		DebugInfo debugInfo `json:"debug_info"`
	}{"disconnect", reason, debugInfo{Host: "fake"}})
	s.mu.Lock()
	conns := slices.Clone(s.conns)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.write(context.Background(), frame)
	}
}

// DropConnections closes every socket abruptly, without a close frame, like a
// network failure.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

func (s *Server) sendableLocked() error {
	if s.closed {
		return ErrClosed
	}
	if len(s.conns) == 0 {
		return ErrNoConnection
	}
	return nil
}

func (s *Server) newEnvelopeLocked(typ string, payload json.RawMessage, accepts bool, target *responseTarget) *envelope {
	env := &envelope{id: newUUID(), typ: typ, payload: payload, accepts: accepts, target: target}
	s.envelopes[env.id] = env
	env.idx = len(s.envOrder)
	s.envOrder = append(s.envOrder, env)
	s.publishEnvelopeLocked(env)
	return env
}

// sendLocked picks the next connection (or all of them), records the delivery,
// unlocks s.mu and writes the frame. It returns the envelope id.
func (s *Server) sendLocked(ctx context.Context, env *envelope, all bool) (string, error) {
	if err := s.sendableLocked(); err != nil {
		s.mu.Unlock()
		return env.id, err
	}
	targets := []*wsConn{s.conns[s.rr%len(s.conns)]}
	if all {
		targets = slices.Clone(s.conns)
	} else {
		s.rr++
	}
	now := time.Now()
	if env.firstSent.IsZero() {
		env.firstSent = now
	}
	for _, c := range targets {
		env.deliveries = append(env.deliveries, Delivery{Conn: c.id, RetryAttempt: env.retryAttempt, At: now})
	}
	s.publishEnvelopeLocked(env)
	frame, attempt := env.frame(), env.retryAttempt
	s.notifyLocked()
	s.mu.Unlock()

	var errs []error
	for _, c := range targets {
		if err := c.write(ctx, frame); err != nil {
			errs = append(errs, fmt.Errorf("slacktest: send envelope %s to connection %d: %w", env.id, c.id, err))
		}
	}
	if len(errs) == 0 {
		s.scheduleRedelivery(env.id, attempt)
	}
	return env.id, errors.Join(errs...)
}

// scheduleRedelivery arms the auto-redelivery timer for attempt of envelope id.
func (s *Server) scheduleRedelivery(id string, attempt int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.autoRedeliver
	if d <= 0 || s.closed || attempt >= maxAutoRetries {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		delete(s.timers, t)
		env := s.envelopes[id]
		if s.closed || env.acked || env.retryAttempt != attempt {
			s.mu.Unlock()
			return
		}
		s.wg.Add(1) // before Close's Wait: Close sets closed under s.mu first
		s.mu.Unlock()
		defer s.wg.Done()
		_ = s.Redeliver(context.Background(), id)
	})
	s.timers[t] = struct{}{}
}
