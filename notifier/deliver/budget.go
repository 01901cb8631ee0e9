package deliver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/store"
)

// Slack's limits, shared by every replica through Redis:
// chat.postMessage about one message per second per channel with short
// bursts (https://docs.slack.dev/reference/methods/chat.postMessage), and
// chat.update, a Tier 3 method, about 50 calls a minute per app and
// workspace (https://docs.slack.dev/apis/web-api/rate-limits). The bursts
// are kept small: pacing stays under Slack's own limit even when requests
// reach Slack a little closer together than they left.
const (
	DefaultPostPerSecond   = 1.0
	DefaultPostBurst       = 2
	DefaultUpdatePerMinute = 50
	DefaultUpdateBurst     = 3
	// conversations.replies (the lookup that finds a post whose answer was
	// lost) is Tier 3 as well: about 50 calls a minute per app and
	// workspace (https://docs.slack.dev/reference/methods/conversations.replies,
	// https://docs.slack.dev/apis/web-api/rate-limits).
	DefaultRepliesPerMinute = 50
	DefaultRepliesBurst     = 3
	// usergroups.users.list (the policy's group lookups) is Tier 2: about
	// 20 calls a minute per app and workspace
	// (https://docs.slack.dev/reference/methods/usergroups.users.list).
	DefaultGroupsPerMinute = 20
	DefaultGroupsBurst     = 3
	// users.conversations (the Home tab's list of a person's channels) is
	// Tier 3: about 50 calls a minute per app and workspace
	// (https://docs.slack.dev/reference/methods/users.conversations). Its
	// own budget: anyone may open the Home tab, and a burst of that must
	// not hold up the policy's group lookups.
	DefaultChannelsPerMinute = 50
	DefaultChannelsBurst     = 3
)

// Budget names: one Redis key each.
const (
	budgetUpdate   = "update"   // chat.update, the workspace's
	budgetPost     = "post:"    // + channel: chat.postMessage in one channel
	budgetReplies  = "replies"  // conversations.replies, the workspace's
	budgetGroups   = "groups"   // usergroups.users.list, the workspace's
	budgetChannels = "channels" // users.conversations, the workspace's
)

// Rate is a budget's pace: N calls per Per, with bursts of Burst.
type Rate struct {
	N     float64
	Per   time.Duration
	Burst int
}

// limit is r for an in-process limiter; a zero Rate is no limit.
func (r Rate) limit() rate.Limit {
	if iv := r.interval(); iv > 0 {
		return rate.Every(iv)
	}
	return rate.Inf
}

func (r Rate) interval() time.Duration {
	if r.N <= 0 || r.Per <= 0 {
		return 0
	}
	return time.Duration(float64(r.Per) / r.N)
}

// Budgets pace Slack calls under limits shared by every replica: each
// budget is a GCRA limiter in Redis, and a 429's Retry-After pauses it for
// all of them.
type Budgets struct {
	store    *store.Store
	post     Rate
	update   Rate
	replies  Rate
	groups   Rate
	channels Rate
}

// NewBudgets returns the shared budgets of store: post per channel, update
// for the workspace. A zero Rate means "no limit". Lookups are paced at
// Slack's limits for the workspace: conversations.replies at Tier 3,
// usergroups.users.list at Tier 2, users.conversations at Tier 3.
func NewBudgets(s *store.Store, post, update Rate) *Budgets {
	return &Budgets{store: s, post: post, update: update,
		replies:  Rate{N: DefaultRepliesPerMinute, Per: time.Minute, Burst: DefaultRepliesBurst},
		groups:   Rate{N: DefaultGroupsPerMinute, Per: time.Minute, Burst: DefaultGroupsBurst},
		channels: Rate{N: DefaultChannelsPerMinute, Per: time.Minute, Burst: DefaultChannelsBurst}}
}

// DefaultBudgets are Slack's limits.
func DefaultBudgets(s *store.Store) *Budgets {
	return NewBudgets(s,
		Rate{N: DefaultPostPerSecond, Per: time.Second, Burst: DefaultPostBurst},
		Rate{N: DefaultUpdatePerMinute, Per: time.Minute, Burst: DefaultUpdateBurst})
}

// budgetOf names the budget a call of method in channel spends, and its
// rate; "" when the method is not paced.
func (b *Budgets) budgetOf(method, channel string) (string, Rate) {
	switch method {
	case "chat.postMessage":
		return budgetPost + channel, b.post
	case "chat.update":
		return budgetUpdate, b.update
	case "conversations.replies":
		return budgetReplies, b.replies
	case "usergroups.users.list":
		return budgetGroups, b.groups
	case "users.conversations":
		return budgetChannels, b.channels
	}
	return "", Rate{}
}

// paces reports whether calls of method spend a budget (and a 429 of it
// can pause one).
func (b *Budgets) paces(method string) bool {
	name, _ := b.budgetOf(method, "")
	return name != ""
}

// Take spends one call of method in channel if the budget allows it now;
// otherwise it returns how long to wait before trying again (and spends
// nothing).
func (b *Budgets) Take(ctx context.Context, method, channel string) (time.Duration, error) {
	return b.take(ctx, method, channel, false)
}

func (b *Budgets) take(ctx context.Context, method, channel string, peek bool) (time.Duration, error) {
	name, r := b.budgetOf(method, channel)
	iv := r.interval()
	if name == "" {
		return 0, nil
	}
	if iv <= 0 {
		// Unlimited, but a pause still holds.
		iv = time.Millisecond
		r.Burst = 1 << 30
	}
	wait, err := b.store.TakeBudget(ctx, name, iv, r.Burst, peek)
	if err != nil {
		return 0, fmt.Errorf("slack budget %s: %w", method, err)
	}
	return wait, nil
}

// Wait blocks until the budget allows one call of method in channel and
// spends it. It gives up with an error wrapping ErrBudgetWait when the wait
// would outlast ctx's deadline, with ctx's error when ctx ends, and with
// one wrapping errBudgetUnreadable when Redis does not answer.
func (b *Budgets) Wait(ctx context.Context, method, channel string) error {
	for {
		wait, err := b.Take(ctx, method, channel)
		if err != nil {
			return fmt.Errorf("%w: %w", errBudgetUnreadable, err)
		}
		if wait <= 0 {
			return nil
		}
		if !fitsDeadline(ctx, wait) {
			return fmt.Errorf("%s: %w (%s)", method, ErrBudgetWait, wait.Round(time.Millisecond))
		}
		if !loop.Sleep(ctx, wait) {
			return fmt.Errorf("%s: %w", method, ctx.Err())
		}
	}
}

// Ready blocks until the budget of method (for the workspace) would allow
// a call, without spending it.
func (b *Budgets) Ready(ctx context.Context, method string) error {
	return b.ReadyIn(ctx, method, "")
}

// maxPause bounds how long one 429 stops a method for every replica.
// Slack's Retry-After is seconds, at worst minutes; a value past an hour
// is a fault, and honouring it would silence the bot for as long.
const maxPause = time.Hour

// Pause stops every replica's calls of method (in channel, for posts) for
// d: Slack answered 429 with Retry-After d (at most maxPause).
func (b *Budgets) Pause(ctx context.Context, method, channel string, d time.Duration) error {
	name, _ := b.budgetOf(method, channel)
	if name == "" {
		return nil
	}
	d = min(d, maxPause)
	if err := b.store.PauseBudget(ctx, name, d); err != nil {
		return fmt.Errorf("pause slack budget %s: %w", method, err)
	}
	return nil
}

// errBudgetUnreadable says a budget could not be read (Redis is away): the
// Poster then paces calls in its own process.
var errBudgetUnreadable = errors.New("slack budget unreadable")

// ErrBudgetWait says a call was not made because Slack's budget would not
// allow it before the caller's deadline; trying later makes sense.
var ErrBudgetWait = errors.New("slack budget exhausted for now")

// ReadyIn blocks until the budget of method in channel would allow a call,
// without spending it (Ready is the workspace's).
func (b *Budgets) ReadyIn(ctx context.Context, method, channel string) error {
	for {
		wait, err := b.take(ctx, method, channel, true)
		if err != nil || wait <= 0 {
			return err
		}
		if !loop.Sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}
