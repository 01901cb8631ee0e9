package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/slack-go/slack"
)

// Where a message came from, in Message.Via and Version.Via.
const (
	ViaPostMessage   = "chat.postMessage"
	ViaPostEphemeral = "chat.postEphemeral"
	ViaUpdate        = "chat.update"
	ViaResponseURL   = "response_url"
	// ViaAck marks a message Slack shows because a slash command was acked with a
	// payload (Socket Mode's accepts_response_payload).
	ViaAck = "ack"
)

// Message is a message as the fake stores it: channel messages, thread replies and
// ephemerals, in the order they were posted.
type Message struct {
	Channel string
	TS      string
	// ThreadTS is the parent's ts for a thread reply, empty for a top-level message.
	ThreadTS    string
	Text        string
	Blocks      json.RawMessage // as stored by Slack: block_id filled in where missing
	Attachments json.RawMessage
	Metadata    *slack.SlackMetadata
	// User is the recipient of an ephemeral message; for other messages it is the
	// author, BotUserID.
	User           string
	Ephemeral      bool
	ReplyBroadcast bool
	Deleted        bool
	// Via is how the message was created: ViaPostMessage, ViaPostEphemeral,
	// ViaResponseURL or ViaAck.
	Via      string
	PostedAt time.Time
	// Updates counts edits (chat.update or replace_original); History holds every
	// version, the original first and the current one last.
	Updates int
	History []Version
}

// Version is one state of a message.
type Version struct {
	Text     string
	Blocks   json.RawMessage
	Metadata *slack.SlackMetadata
	Via      string
	At       time.Time
}

// Call is one request to a Web API method or a response URL.
type Call struct {
	Method string // e.g. "chat.postMessage", or "response_url"
	// Params holds the decoded form or JSON body (JSON values that are not strings
	// as JSON text), without the token.
	Params url.Values
	Time   time.Time
	Status int    // HTTP status answered
	Error  string // Slack error answered, "" for ok
	// RetryAfter is the Retry-After answered with a 429.
	RetryAfter time.Duration
}

// Ack is an acknowledgement received over Socket Mode.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage // nil when the ack carried no payload
	// SentAt is when the envelope was first sent (Slack's 3 s ack deadline runs
	// from there); zero for an unknown envelope id.
	SentAt  time.Time
	AckedAt time.Time
	Conn    int // id of the connection the ack arrived on
	// RetryAttempt is the envelope's retry_attempt when the ack arrived.
	RetryAttempt int
}

// Envelope is a Socket Mode envelope the fake sent.
type Envelope struct {
	ID           string
	Type         string // "slash_commands" or "interactive"
	Payload      json.RawMessage
	RetryAttempt int
	Deliveries   []Delivery
	Acked        bool
}

// Delivery is one write of an envelope to a connection.
type Delivery struct {
	Conn         int
	RetryAttempt int
	At           time.Time
}

type msgKey struct{ channel, ts string }

// message is the stored form of a Message.
type message struct {
	Message
	idx      int             // in Server.messages
	metaRaw  json.RawMessage // metadata as received, sent back verbatim
	editedTS string
}

func (m *message) key() msgKey { return msgKey{m.Channel, m.TS} }

// publishMessageLocked makes the current state of m what snapshots see. Snapshots
// share these immutable copies, so taking one costs a slice of pointers however
// many messages a benchmark has posted.
func (s *Server) publishMessageLocked(m *message) {
	c := m.Message
	// History is append-only, so the copy can share its prefix.
	c.History = m.History[:len(m.History):len(m.History)]
	if m.idx == len(s.published) {
		s.published = append(s.published, &c)
	} else {
		s.published[m.idx] = &c
	}
}

// Snapshot is a consistent copy of everything the fake has recorded.
type Snapshot struct {
	messages    []*Message // shared, never modified
	calls       []Call
	acks        []Ack
	envelopes   []*Envelope // shared, never modified
	views       []*View     // shared, never modified
	connections int
	connects    int
	pings       int
	pongs       int
}

// Snapshot returns a copy of the recorded state.
func (s *Server) Snapshot() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked()
}

func (s *Server) snapshotLocked() *Snapshot {
	return &Snapshot{
		messages: slices.Clone(s.published),
		// calls and acks are append-only: share the prefix.
		calls:       s.calls[:len(s.calls):len(s.calls)],
		acks:        s.acks[:len(s.acks):len(s.acks)],
		envelopes:   slices.Clone(s.envPublished),
		views:       slices.Clone(s.vs.published),
		connections: len(s.conns),
		connects:    s.connects,
		pings:       s.pings,
		pongs:       s.pongs,
	}
}

// Wait blocks until cond returns true for a snapshot of the recorded state. cond is
// evaluated now and again after every recorded change (a call, a message, an ack,
// a connection, a ping), never by polling. It returns ctx.Err() wrapped if ctx ends
// first and ErrClosed if the server closes.
func (s *Server) Wait(ctx context.Context, cond func(*Snapshot) bool) error {
	var snap *Snapshot
	return s.wait(ctx, func() bool {
		snap = s.snapshotLocked()
		return false
	}, func() bool { return cond(snap) })
}

// wait is Wait with a check that runs under s.mu on the live state (cheap for
// WaitAck in a benchmark) and then, outside the lock, an optional cond.
func (s *Server) wait(ctx context.Context, checkLocked func() bool, cond func() bool) error {
	for {
		s.mu.Lock()
		done := checkLocked()
		changed, closed := s.changed, s.closed
		s.mu.Unlock()
		if done || (cond != nil && cond()) {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("slacktest: wait: %w", ctx.Err())
		}
	}
}

// Messages returns every stored message (channel messages, replies, ephemerals,
// deleted ones too) in the order they were posted.
func (s *Server) Messages() []Message { return s.Snapshot().Messages() }

// Message returns the channel message or ephemeral with the given ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	return s.Snapshot().Message(channel, ts)
}

// ThreadReplies returns the replies (not the parent) in the thread of the message
// channel/ts, oldest first, without deleted ones.
func (s *Server) ThreadReplies(channel, ts string) []Message {
	return s.Snapshot().ThreadReplies(channel, ts)
}

// Ephemerals returns the ephemeral messages shown to user, oldest first.
func (s *Server) Ephemerals(user string) []Message { return s.Snapshot().Ephemerals(user) }

// DirectMessages returns the messages the bot sent user in their direct
// messages (chat.postMessage with the user id as its channel).
func (s *Server) DirectMessages(user string) []Message { return s.Snapshot().DirectMessages(user) }

// Calls returns the recorded calls of method, or of every method when method is "".
func (s *Server) Calls(method string) []Call { return s.Snapshot().Calls(method) }

// Acks returns every ack received, in arrival order.
func (s *Server) Acks() []Ack { return s.Snapshot().Acks() }

// Envelopes returns every envelope sent, in the order they were created.
func (s *Server) Envelopes() []Envelope { return s.Snapshot().Envelopes() }

// Connections returns the number of open Socket Mode connections.
func (s *Server) Connections() int { return s.Snapshot().Connections() }

// WaitConnections waits until at least n Socket Mode connections are open (each has
// received its hello).
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return len(s.conns) >= n }, nil)
}

// WaitAck waits for the first ack of envelopeID and returns it.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	var ack Ack
	err := s.wait(ctx, func() bool {
		i, ok := s.firstAck[envelopeID]
		if ok {
			ack = s.acks[i]
		}
		return ok
	}, nil)
	return ack, err
}

// Messages returns every stored message in the order they were posted.
func (snap *Snapshot) Messages() []Message { return deref(snap.messages) }

func deref[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// Message returns the channel message or ephemeral with the given ts.
func (snap *Snapshot) Message(channel, ts string) (Message, bool) {
	for _, m := range snap.messages {
		if m.Channel == channel && m.TS == ts {
			return *m, true
		}
	}
	return Message{}, false
}

// ThreadReplies returns the replies in the thread of channel/ts, oldest first,
// without deleted ones. ts may be the parent or any reply.
func (snap *Snapshot) ThreadReplies(channel, ts string) []Message {
	parent := ts
	if m, ok := snap.Message(channel, ts); ok && m.ThreadTS != "" {
		parent = m.ThreadTS
	}
	var out []Message
	for _, m := range snap.messages {
		if m.Channel == channel && m.ThreadTS == parent && !m.Ephemeral && !m.Deleted {
			out = append(out, *m)
		}
	}
	return out
}

// Ephemerals returns the ephemeral messages shown to user, oldest first.
func (snap *Snapshot) Ephemerals(user string) []Message {
	var out []Message
	for _, m := range snap.messages {
		if m.Ephemeral && m.User == user {
			out = append(out, *m)
		}
	}
	return out
}

// DirectMessages returns the messages the bot sent user in their direct
// messages, in the order they were posted.
func (snap *Snapshot) DirectMessages(user string) []Message {
	var out []Message
	for _, m := range snap.messages {
		if !m.Ephemeral && m.Channel == DMChannel(user) {
			out = append(out, *m)
		}
	}
	return out
}

// Calls returns the recorded calls of method, or all calls when method is "".
func (snap *Snapshot) Calls(method string) []Call {
	var out []Call
	for _, c := range snap.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Acks returns every ack received, in arrival order.
func (snap *Snapshot) Acks() []Ack { return slices.Clone(snap.acks) }

// Ack returns the first ack of envelopeID.
func (snap *Snapshot) Ack(envelopeID string) (Ack, bool) {
	for _, a := range snap.acks {
		if a.EnvelopeID == envelopeID {
			return a, true
		}
	}
	return Ack{}, false
}

// Envelopes returns every envelope sent, in the order they were created.
func (snap *Snapshot) Envelopes() []Envelope { return deref(snap.envelopes) }

// Connections returns the number of open Socket Mode connections.
func (snap *Snapshot) Connections() int { return snap.connections }

// Connects returns how many Socket Mode connections were ever accepted; more than
// the number of clients means somebody reconnected.
func (snap *Snapshot) Connects() int { return snap.connects }

// Pings returns how many websocket pings the fake has sent.
func (snap *Snapshot) Pings() int { return snap.pings }

// Pongs returns how many pongs the clients have answered.
func (snap *Snapshot) Pongs() int { return snap.pongs }
