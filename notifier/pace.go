package notifier

import (
	"time"

	"github.com/runjob/runjob/xplenty"
)

// NextDelay decides how long to wait before the next poll: the interval
// while the budget is healthy, longer as X-RateLimit-Remaining falls (the
// budget is shared with other tools using the same key), and exponential
// backoff after failures, longest after a 429 (Xplenty sends no
// Retry-After). It is a pure function, so the policy is table-tested.
func NextDelay(interval time.Duration, rl xplenty.RateLimit, fails int, rateLimited bool) time.Duration {
	const maxDelay = 15 * time.Minute
	d := interval * budgetFactor(rl)
	if fails > 0 {
		base := interval
		if rateLimited {
			base = max(interval, time.Minute)
		}
		back := base << min(fails-1, 6)
		d = max(d, back)
	}
	return min(d, maxDelay)
}

// budgetFactor is how many intervals apart polls go as the budget falls:
// 1 while more than a quarter of it is left.
func budgetFactor(rl xplenty.RateLimit) time.Duration {
	if rl.Limit <= 0 {
		return 1
	}
	left := float64(rl.Remaining) / float64(rl.Limit)
	switch {
	case left <= 0.02:
		return 16
	case left <= 0.10:
		return 4
	case left <= 0.25:
		return 2
	}
	return 1
}
