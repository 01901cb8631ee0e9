package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/render"
)

// SlackAPI is the part of Slack's Web API the Poster calls: posts, edits
// and thread lookups for the notifier, ephemeral answers, user group
// lookups, the run form's views and the Home tab for the bot. *slack.Client implements it.
type SlackAPI interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	GetUserGroupMembersContext(ctx context.Context, group string, options ...slack.GetUserGroupMembersOption) ([]string, error)
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	UpdateViewContext(ctx context.Context, view slack.ModalViewRequest, externalID, hash, viewID string) (*slack.ViewResponse, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
	GetConversationsForUserContext(ctx context.Context, params *slack.GetConversationsForUserParameters) ([]slack.Channel, string, error)
}

var _ SlackAPI = (*slack.Client)(nil)

// Slack limits chat.postMessage to about one message per second per channel,
// allowing short bursts (api.slack.com/methods/chat.postMessage, "Rate limiting").
// These pace posts of a Poster without Budgets.
const (
	defaultChannelRate  = rate.Limit(1)
	defaultChannelBurst = 4
	// slackCallTimeout bounds one Web API call.
	slackCallTimeout = 10 * time.Second
)

// PosterOptions configure a Poster.
type PosterOptions struct {
	Logger *slog.Logger
	// ChannelRate and ChannelBurst pace posts per channel; defaults follow
	// Slack's one message per second per channel.
	ChannelRate  rate.Limit
	ChannelBurst int
	// MaxRetryAfter caps how long one call waits out a 429 before giving up
	// (the caller's retry path takes over). Default 1 minute.
	MaxRetryAfter time.Duration
	// Attempts bounds the tries of one call on 429 and, for idempotent
	// calls, transient failures. Default 5.
	Attempts int
	// OnCall, when set, is told about every Slack call: its method (a Web
	// API method, or "response_url" for a post to one) and the Slack error
	// code ("" on success, "ratelimited" on 429).
	OnCall func(method, code string)
	// HTTPClient posts answers to response_urls (see Answer). Default a
	// client with a 10 s timeout.
	HTTPClient *http.Client
	// Budgets, when set, pace chat.postMessage, chat.update,
	// conversations.replies and usergroups.users.list under budgets shared by every replica through
	// Redis, and a 429 pauses the budget for all of them; ChannelRate and
	// ChannelBurst are then unused (calls are not paced twice). When Redis
	// cannot be read, the same rates are kept in this process.
	Budgets *Budgets
}

// Poster is the one path through which the bot writes to Slack (channel
// messages, card edits, answers to one person) and looks up user groups:
// it paces calls under the budgets (posts per channel), waits out 429s as
// Retry-After says, retries only what is safe to retry, and tells OnCall
// of every call.
type Poster struct {
	api  SlackAPI
	opts PosterOptions
	mu   sync.Mutex
	lims map[string]*rate.Limiter // in-process pacing (see pace)
	// downUntil: the budgets failed to be read, calls skip Redis until
	// then; downLogged: when that was last logged.
	downUntil, downLogged time.Time
}

// NewPoster returns a Poster calling api.
func NewPoster(api SlackAPI, opts PosterOptions) *Poster {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ChannelRate <= 0 {
		opts.ChannelRate = defaultChannelRate
	}
	if opts.ChannelBurst <= 0 {
		opts.ChannelBurst = defaultChannelBurst
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = time.Minute
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: slackCallTimeout}
	}
	return &Poster{api: api, opts: opts, lims: map[string]*rate.Limiter{}}
}

// msgOptions turns a Message into slack-go options.
func msgOptions(m render.Message) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	return opts
}

// Post posts m in channel (in a thread when threadTS is set) and returns its
// ts. Posting is not idempotent, so only a 429 (the message was certainly
// not posted) is retried here; other failures are returned, and
// IsRetryable says whether trying later makes sense.
func (p *Poster) Post(ctx context.Context, channel string, m render.Message, threadTS string, meta *slack.SlackMetadata) (string, error) {
	return p.post(ctx, channel, m, threadTS, meta, false)
}

// Broadcast posts m as a reply in the thread of threadTS that is also shown
// in the channel (reply_broadcast), as Post does otherwise.
func (p *Poster) Broadcast(ctx context.Context, channel string, m render.Message, threadTS string, meta *slack.SlackMetadata) (string, error) {
	return p.post(ctx, channel, m, threadTS, meta, true)
}

func (p *Poster) post(ctx context.Context, channel string, m render.Message, threadTS string, meta *slack.SlackMetadata, broadcast bool) (string, error) {
	opts := msgOptions(m)
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
		if broadcast {
			opts = append(opts, slack.MsgOptionBroadcast())
		}
	}
	if meta != nil {
		opts = append(opts, slack.MsgOptionMetadata(*meta))
	}
	var ts string
	err := p.call(ctx, "chat.postMessage", channel, false, func(ctx context.Context) error {
		var err error
		_, ts, err = p.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return ts, err
}

// Update replaces the message at ts with m. Updating is idempotent, so
// transient failures are retried as well. It is the one function through
// which a card is edited: a tracked job's card by the card loop
// (deliverCard, rendered from the record under the card's lock and
// revision), a card no job is tracked on by the bot (a refusal, an unknown
// outcome).
func (p *Poster) Update(ctx context.Context, channel, ts string, m render.Message) error {
	opts := msgOptions(m)
	return p.call(ctx, "chat.update", channel, true, func(ctx context.Context) error {
		_, _, _, err := p.api.UpdateMessageContext(ctx, channel, ts, opts...)
		return err
	})
}

// FindInThread looks through the replies of a thread for a message the bot
// posted with metadata of eventType whose payload satisfies match, and
// returns its ts. It is how delivery stays idempotent when Slack's answer to
// a post was lost: the message itself carries the proof it was posted.
func (p *Poster) FindInThread(ctx context.Context, channel, threadTS, eventType string, match func(map[string]any) bool) (string, bool, error) {
	cursor := ""
	for page := 0; page < 20; page++ {
		var msgs []slack.Message
		var more bool
		var next string
		err := p.call(ctx, "conversations.replies", "", true, func(ctx context.Context) error {
			var err error
			msgs, more, next, err = p.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: channel, Timestamp: threadTS, Cursor: cursor, Limit: 200, IncludeAllMetadata: true,
			})
			return err
		})
		if err != nil {
			return "", false, err
		}
		for _, m := range msgs {
			if m.Metadata.EventType == eventType && match(m.Metadata.EventPayload) {
				return m.Timestamp, true, nil
			}
		}
		if !more || next == "" {
			return "", false, nil
		}
		cursor = next
	}
	return "", false, nil
}

// call runs one Web API call with a deadline, paced by the budgets (or,
// without them or Redis, by limiters of its own; see pace), waiting out
// 429s and, when idempotent, retrying transient failures with backoff.
func (p *Poster) call(ctx context.Context, method, channel string, idempotent bool, fn func(context.Context) error) error {
	backoff := 500 * time.Millisecond
	var err error
	for attempt := 1; ; attempt++ {
		if werr := p.pace(ctx, method, channel); werr != nil {
			return fmt.Errorf("%s: %w", method, werr)
		}
		cctx, cancel := context.WithTimeout(ctx, slackCallTimeout)
		err = fn(cctx)
		cancel()
		if p.opts.OnCall != nil {
			p.opts.OnCall(method, SlackErrorCode(err))
		}
		if err == nil {
			return nil
		}
		if attempt >= p.opts.Attempts || ctx.Err() != nil {
			break
		}
		var wait time.Duration
		var rl *slack.RateLimitedError
		switch {
		case errors.As(err, &rl):
			wait = rl.RetryAfter
			if wait <= 0 {
				wait = time.Second
			}
			// Every replica stands still for the Retry-After, not only this
			// call; the budget's wait then paces the next try. A method
			// without a budget, or budgets Redis cannot hold now, wait here.
			paused := false
			if b := p.opts.Budgets; b != nil && b.paces(method) && !p.budgetsDown() {
				pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				perr := b.Pause(pctx, method, channel, wait)
				cancel()
				if perr != nil {
					p.opts.Logger.Warn("pause slack budget", "method", method, "err", perr)
				}
				paused = perr == nil
			}
			if wait > p.opts.MaxRetryAfter || !fitsDeadline(ctx, wait) {
				// Too long to wait here: the caller's retry path takes over
				// (a delivery holds a lock only so long).
				return fmt.Errorf("%s: %w", method, err)
			}
			p.opts.Logger.Warn("slack rate limited", "method", method, "retry_after", wait)
			if paused {
				continue // the paused budget makes the wait
			}
		case idempotent && IsRetryable(err) && fitsDeadline(ctx, backoff):
			wait = backoff
			backoff = min(backoff*2, 10*time.Second)
		default:
			return fmt.Errorf("%s: %w", method, err)
		}
		if !loop.Sleep(ctx, wait) {
			return fmt.Errorf("%s: %w", method, ctx.Err())
		}
	}
	return fmt.Errorf("%s: %w", method, err)
}

// fitsDeadline reports whether waiting d still leaves ctx time for a call.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d+time.Second
}

// SlackErrorCode returns Slack's error code for err ("not_in_channel",
// "invalid_auth", ...), "ratelimited" for a 429, "" for nil, and "error"
// for failures that carry no code (network, 5xx).
func SlackErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return "ratelimited"
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return fmt.Sprintf("http_%d", sc.Code)
	}
	return "error"
}

// IsRetryable reports whether a failed Slack call may succeed later: rate
// limits, 5xx answers, network failures and timeouts. Slack error codes
// such as not_in_channel or invalid_auth are permanent.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return true
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return sc.Code >= 500 || sc.Code == 429
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited":
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// Unknown failures (connection reset, EOF, bad gateway pages) are
	// treated as transient: retrying a delivery is safe, dropping it is not.
	return !errors.Is(err, context.Canceled)
}
