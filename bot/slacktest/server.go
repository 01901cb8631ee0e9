// Package slacktest is a fake Slack for end-to-end tests and benchmarks of the bot.
//
// It exists so the bot can be tested with the real slack-go client, unmodified: the
// fake speaks Slack's wire formats for the Web API methods the bot calls, for
// response_url posts, and for Socket Mode (apps.connections.open, then a websocket
// that sends hello, envelopes, pings and disconnects, and receives acks). Modals
// are modelled as a person uses them: views.open with a trigger_id the fake issued,
// views.update, views.publish, then typing (block_suggestion), choosing
// (block_actions from the view), submitting (view_submission, whose ack may close
// the modal or show errors) and closing (view_closed). Everything
// the bot does is recorded (calls, a thread-aware message store, acks, views), tests can
// wait for any recorded state with Wait, and Slack's unhappy paths (not_in_channel,
// archived channels, HTTP 429 with Retry-After, arbitrary errors, latency,
// redeliveries, dropped sockets) can be switched on per method or channel. A post
// to a user id lands in the bot's direct messages with that user (DirectMessages).
//
// Point a client at it with
//
//	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()),
//		slack.OptionAppLevelToken(fake.AppToken()))
//	client := socketmode.New(api)
package slacktest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Identities of the fake workspace. They appear in payloads and API answers the way
// the real ones do (team_id, api_app_id, a message's user and bot_id).
const (
	TeamID     = "T0FAKE"
	TeamDomain = "fake"
	AppID      = "A0FAKE"
	BotUserID  = "U0FAKEBOT"
	BotID      = "B0FAKE"
	// VerificationToken is the legacy token Slack puts in every payload.
	VerificationToken = "fake-verification-token"
)

// Default tokens, used when Options leaves them empty.
const (
	DefaultBotToken = "xoxb-test-bot-token"
	DefaultAppToken = "xapp-test-app-token"
)

// DefaultPingInterval is how often the fake pings each Socket Mode connection when
// Options.PingInterval is zero. slack-go drops a connection that has not been
// pinged for its maxPingInterval (30 s by default), so this must stay well below it.
const DefaultPingInterval = 10 * time.Second

// writeTimeout bounds every websocket write, so a stuck client cannot hang the fake.
const writeTimeout = 5 * time.Second

// Errors returned by the Socket Mode side of the fake.
var (
	// ErrClosed is returned once Close has been called.
	ErrClosed = errors.New("slacktest: server closed")
	// ErrNoConnection is returned when an envelope is sent while no Socket Mode
	// client is connected (Slack would fail the command with dispatch_failed).
	ErrNoConnection = errors.New("slacktest: no socket mode connection")
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// BotToken is the only token accepted by Web API methods (default DefaultBotToken).
	BotToken string
	// AppToken is the only token accepted by apps.connections.open (default DefaultAppToken).
	AppToken string
	// PingInterval is how often each websocket is pinged (default DefaultPingInterval).
	PingInterval time.Duration
	// Limits, when set, are enforced like Slack's rate limits (see Limits);
	// nil enforces none.
	Limits *Limits
	// TriggerTTL is how long a trigger_id the fake issues can be exchanged
	// (views.open answers expired_trigger_id after it). Slack's expire after
	// 3 s; zero, the default, never expires them, so tests do not depend
	// on timing.
	TriggerTTL time.Duration
}

// Server is a fake Slack: Web API, response URLs and Socket Mode on one httptest
// server. It is safe for concurrent use. Create it with New and stop it with Close.
type Server struct {
	opts     Options
	http     *httptest.Server
	upgrader websocket.Upgrader
	done     chan struct{} // closed by Close
	wg       sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every recorded change
	closed  bool
	seq     int64 // source of ts values and other ids

	// Web API state and behaviours.
	calls        []Call
	messages     []*message
	published    []*Message // immutable copies of messages, for snapshots
	byKey        map[msgKey]*message
	replies      map[msgKey][]*message // thread parent -> replies, in ts order
	notInChannel map[string]bool
	members      map[string]map[string]bool // channel -> its members
	archived     map[string]bool
	failures     map[string][]string
	rateLimits   map[string][]time.Duration
	latency      map[string]time.Duration
	holds        map[string]chan struct{} // methods held until released (hold.go)
	held         map[string]int           // calls waiting in a hold, by method
	groups       map[string][]string
	userNames    map[string]string
	responseURLs map[string]*responseTarget
	limits       *Limits              // enforced limits, nil for none
	tat          map[string]time.Time // GCRA state of each enforced limit

	// Socket Mode state.
	tickets       map[string]bool
	conns         []*wsConn
	connSeq       int
	connects      int
	rr            int
	pings, pongs  int
	envelopes     map[string]*envelope
	envOrder      []*envelope
	envPublished  []*Envelope // immutable copies of envOrder, for snapshots
	acks          []Ack
	firstAck      map[string]int // envelope id -> index of its first ack
	autoRedeliver time.Duration
	timers        map[*time.Timer]struct{}

	// Modals, home tabs, trigger ids, suggestions and submissions.
	vs viewStore
}

// New starts a fake Slack on a local port.
func New(opts Options) *Server {
	if opts.BotToken == "" {
		opts.BotToken = DefaultBotToken
	}
	if opts.AppToken == "" {
		opts.AppToken = DefaultAppToken
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	s := &Server{
		opts: opts,
		upgrader: websocket.Upgrader{
			// slack-go dials with "Origin: https://api.slack.com", which the default
			// same-origin check would reject.
			CheckOrigin: func(*http.Request) bool { return true },
		},
		done:         make(chan struct{}),
		changed:      make(chan struct{}),
		byKey:        map[msgKey]*message{},
		replies:      map[msgKey][]*message{},
		notInChannel: map[string]bool{},
		members:      map[string]map[string]bool{},
		archived:     map[string]bool{},
		failures:     map[string][]string{},
		rateLimits:   map[string][]time.Duration{},
		latency:      map[string]time.Duration{},
		groups:       map[string][]string{},
		userNames:    map[string]string{},
		responseURLs: map[string]*responseTarget{},
		tickets:      map[string]bool{},
		envelopes:    map[string]*envelope{},
		firstAck:     map[string]int{},
		timers:       map[*time.Timer]struct{}{},
		vs:           newViewStore(),
	}
	s.setLimitsLocked(opts.Limits)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/response/", s.handleResponseURL)
	mux.HandleFunc("/link/", s.handleSocket)
	s.http = httptest.NewServer(mux)
	return s
}

// APIURL is the Web API base URL for slack.OptionAPIURL, with the trailing slash
// slack-go expects.
func (s *Server) APIURL() string { return s.http.URL + "/api/" }

// BotToken is the bot token (xoxb-…) the Web API accepts.
func (s *Server) BotToken() string { return s.opts.BotToken }

// AppToken is the app-level token (xapp-…) apps.connections.open accepts.
func (s *Server) AppToken() string { return s.opts.AppToken }

// Close closes every websocket, stops all timers and goroutines of the fake and
// shuts the HTTP server down. Waiters get ErrClosed. It is safe to call twice.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	conns := s.conns
	s.conns = nil
	for t := range s.timers {
		t.Stop()
	}
	clear(s.timers)
	s.notifyLocked()
	s.mu.Unlock()

	for _, c := range conns {
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closed")
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(100*time.Millisecond))
		c.close()
	}
	s.http.Close()
	s.wg.Wait()
}

// SetNotInChannel makes chat.postMessage, chat.postEphemeral, chat.update and
// conversations.replies in channel fail with not_in_channel, as for a channel the
// bot has not been invited to (or was removed from).
func (s *Server) SetNotInChannel(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notInChannel[channel] = true
}

// SetInChannel undoes SetNotInChannel (the bot was invited).
func (s *Server) SetInChannel(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.notInChannel, channel)
}

// SetArchived archives channel: chat.postMessage, chat.postEphemeral and
// chat.update there fail with is_archived, as Slack answers for an archived
// channel; its history (conversations.replies) can still be read.
func (s *Server) SetArchived(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.archived[channel] = true
}

// refusesLocked is the error Slack answers a post or an edit in channel
// with, "" when it takes it.
func (s *Server) refusesLocked(channel string) string {
	switch {
	case s.archived[channel]:
		return "is_archived"
	case s.notInChannel[channel]:
		return "not_in_channel"
	}
	return ""
}

// DMChannel is the id of the direct-message conversation between the bot
// and user: chat.postMessage with a user id as its channel posts there, and
// answers with this id, as Slack does.
func DMChannel(user string) string { return "D" + user }

// FailNext makes the next n calls of method answer {"ok":false,"error":slackError}
// with HTTP 200, as Slack does. method is a Web API method name or "response_url"
// (which answers HTTP 404 with the same body). Calls queue up behind earlier ones.
func (s *Server) FailNext(method string, n int, slackError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[method] = append(s.failures[method], slackError)
	}
}

// RateLimitNext makes the next n calls of method answer HTTP 429 with a Retry-After
// header of retryAfter rounded up to whole seconds, the only unit Slack uses
// (slack-go turns it into a *slack.RateLimitedError); zero sends "Retry-After: 0",
// which keeps tests fast. method may also be "response_url". Rate limits are
// checked before FailNext failures.
func (s *Server) RateLimitNext(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.rateLimits[method] = append(s.rateLimits[method], retryAfter)
	}
}

// SetLatency delays every answer of method (a Web API method or "response_url") by
// d; zero removes the delay.
func (s *Server) SetLatency(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.latency, method)
		return
	}
	s.latency[method] = d
}

// SetUserGroup sets the members usergroups.users.list returns for the group id.
func (s *Server) SetUserGroup(id string, users []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = append([]string(nil), users...)
}

// SetUserName sets the user name the fake reports for a user id (in payloads and in
// users.info); by default it is the id in lower case.
func (s *Server) SetUserName(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userNames[id] = name
}

func (s *Server) userNameLocked(id string) string {
	if name, ok := s.userNames[id]; ok {
		return name
	}
	return strings.ToLower(id)
}

// notifyLocked wakes every Wait. The caller holds s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// sleep waits d, or less if the request is cancelled or the server closes.
func (s *Server) sleep(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-s.done:
	}
}
