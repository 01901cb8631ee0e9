package deliver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/runjob/runjob/notifier/loop"
)

// When Redis is away the shared budgets cannot be read, but Slack can still
// be written to: a card for a /runjob, the reply adopt() fills in directly.
// Calls are then paced by limiters in this process at the budgets' rates
// (each replica on its own, so a few replicas may together go a little past
// Slack's limits; Slack's 429s, still waited out, cover that).
const (
	// budgetsDownFor is how long after a failed read calls skip Redis: a
	// Redis that does not answer would otherwise cost every call its
	// timeout.
	budgetsDownFor = 5 * time.Second
	// budgetsDownLogEvery bounds the warnings while Redis stays away.
	budgetsDownLogEvery = time.Minute
)

// pace waits until method may be called in channel: under the shared
// budgets, or under limiters of this process when there are none or they
// cannot be read.
func (p *Poster) pace(ctx context.Context, method, channel string) error {
	b := p.opts.Budgets
	if b == nil {
		if method != "chat.postMessage" {
			return nil
		}
		if err := p.channelLimiter(channel).Wait(ctx); err != nil {
			// Cancelled, or the pacing would outlast the deadline.
			return fmt.Errorf("channel pacing: %w", err)
		}
		return nil
	}
	if !p.budgetsDown() {
		err := b.Wait(ctx, method, channel)
		if err == nil || !errors.Is(err, errBudgetUnreadable) || ctx.Err() != nil {
			return err
		}
		p.budgetsUnreadable(err)
	}
	name, r := b.budgetOf(method, channel)
	if name == "" {
		return nil
	}
	res := p.limiter(name, r.limit(), r.Burst).Reserve()
	wait := res.Delay()
	if !fitsDeadline(ctx, wait) {
		res.Cancel()
		return fmt.Errorf("%w (%s, paced in process)", ErrBudgetWait, wait.Round(time.Millisecond))
	}
	if !loop.Sleep(ctx, wait) {
		res.Cancel()
		return ctx.Err()
	}
	return nil
}

// budgetsDown reports whether the budgets failed to be read moments ago.
func (p *Poster) budgetsDown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Now().Before(p.downUntil)
}

// budgetsUnreadable notes that a budget could not be read, and says so now
// and then.
func (p *Poster) budgetsUnreadable(err error) {
	p.mu.Lock()
	now := time.Now()
	p.downUntil = now.Add(budgetsDownFor)
	warn := now.Sub(p.downLogged) >= budgetsDownLogEvery
	if warn {
		p.downLogged = now
	}
	p.mu.Unlock()
	if warn {
		p.opts.Logger.Warn("slack budgets unavailable, pacing Slack calls in this process", "err", err)
	}
}

// channelLimiter paces posts in channel for a Poster without Budgets, at
// ChannelRate and ChannelBurst.
func (p *Poster) channelLimiter(channel string) *rate.Limiter {
	return p.limiter(budgetPost+channel, p.opts.ChannelRate, p.opts.ChannelBurst)
}

// limiter returns the in-process limiter named key, made at r and burst on
// first use.
func (p *Poster) limiter(key string, r rate.Limit, burst int) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.lims[key]
	if !ok {
		if len(p.lims) > 10000 { // forget idle channels rather than grow forever
			p.lims = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(r, max(burst, 1))
		p.lims[key] = l
	}
	return l
}
