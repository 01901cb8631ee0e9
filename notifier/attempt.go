package notifier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/xplenty"
)

// markAttempt records, just before a reply is posted, that a post of it
// is being tried, and reports whether this is the first try. Any later try
// (a retry, an old copy held by a slow replica, a replica that claimed the
// entry) then searches the thread before posting: how the entry arrived
// says nothing about whether someone already posted it.
func (d *Deliverer) markAttempt(ctx context.Context, id int64, status xplenty.Status) (bool, error) {
	first, err := d.store.rdb.SetNX(ctx, d.store.keys.attempt(id, status), d.opts.Consumer, d.store.retention).Result()
	if err != nil {
		return false, fmt.Errorf("reply to job %d: %w", id, err)
	}
	return first, nil
}

// clearAttempt forgets a first try that certainly posted nothing, so that
// the next one need not search the thread.
func (d *Deliverer) clearAttempt(ctx context.Context, id int64, status xplenty.Status) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := d.store.rdb.Del(ctx, d.store.keys.attempt(id, status)).Err(); err != nil {
		d.log.Debug("clear reply attempt", "job_id", id, "err", err)
	}
}

// notPosted reports whether a failed post certainly did not reach the
// channel: the budget would not allow it, or Slack refused it with a 429.
func notPosted(err error) bool {
	var rl *slack.RateLimitedError
	return errors.Is(err, ErrBudgetWait) || errors.As(err, &rl)
}
