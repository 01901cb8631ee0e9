package store

import (
	"context"
	"time"
)

// takeScript is a GCRA rate limiter with a pause, on a hash of fields
// "tat" (theoretical arrival time) and "pause" (no call before it), both
// in ms on Redis's clock, so that replicas with skewed clocks share one
// timeline. It returns 0 when a call may go now (and counts it), else how
// many ms to wait.
//
// KEYS: budget hash. ARGV: interval ms, burst, peek (1: only say how long
// to wait, spend nothing).
var takeScript = script("budget_take")

// pauseScript makes a budget refuse every call for ARGV[1] ms from now
// (a 429's Retry-After), unless it is already paused longer. The pause is
// Slack's to choose and is honoured whole; only the key's lifetime follows
// it, a second past its end.
var pauseScript = script("budget_pause")

// TakeBudget spends one call of the named budget (interval between calls,
// bursts of burst) if it allows one now; otherwise it returns how long to
// wait, and spends nothing. With peek it only says how long to wait.
func (s *Store) TakeBudget(ctx context.Context, name string, interval time.Duration, burst int, peek bool) (time.Duration, error) {
	peekArg := "0"
	if peek {
		peekArg = "1"
	}
	ms, err := takeScript.Run(ctx, s.rdb, []string{s.keys.Budget(name)},
		max(interval.Milliseconds(), 1), max(burst, 1), peekArg).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// PauseBudget makes the named budget refuse every call for d (see
// pauseScript).
func (s *Store) PauseBudget(ctx context.Context, name string, d time.Duration) error {
	return pauseScript.Run(ctx, s.rdb, []string{s.keys.Budget(name)}, max(d.Milliseconds(), 1)).Err()
}
