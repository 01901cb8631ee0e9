package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ActiveCount returns how many tracked jobs have not finished.
func (s *Store) ActiveCount(ctx context.Context) (int64, error) {
	return s.rdb.ZCard(ctx, s.keys.Active()).Result()
}

// Stale returns up to n unfinished jobs not seen since before, oldest first.
func (s *Store) Stale(ctx context.Context, before time.Time, n int64) ([]int64, error) {
	ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: s.keys.Active(), Start: "-inf", Stop: strconv.FormatInt(before.UnixMilli(), 10),
		ByScore: true, Count: n,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("stale jobs: %w", err)
	}
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if v, err := strconv.ParseInt(id, 10, 64); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// Seen marks a job as seen now without changing it (a poll that found no
// change), so it goes to the back of the stale queue.
func (s *Store) Seen(ctx context.Context, id int64) error {
	return s.rdb.ZAddXX(ctx, s.keys.Active(), redis.Z{Score: float64(s.now().UnixMilli()), Member: id}).Err()
}

// Since returns the watcher's high-water mark; ok is false when no job was
// ever tracked.
func (s *Store) Since(ctx context.Context) (t time.Time, ok bool, err error) {
	v, err := s.rdb.Get(ctx, s.keys.Since()).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read watermark: %w", err)
	}
	t, err = time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read watermark %q: %w", v, err)
	}
	return t, true, nil
}

// SetSince moves the watcher's high-water mark.
func (s *Store) SetSince(ctx context.Context, t time.Time) error {
	return s.rdb.Set(ctx, s.keys.Since(), t.UTC().Format(time.RFC3339), 0).Err()
}

// leaseScript takes the lease when it is free, or renews it for its holder.
var leaseScript = script("lease")

// releaseScript deletes a lease or lock only if the caller holds it.
var releaseScript = script("release")

// Lease takes or renews the polling lease for holder; only the holder polls
// Xplenty, so replicas share the budget instead of multiplying its use.
func (s *Store) Lease(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	n, err := leaseScript.Run(ctx, s.rdb, []string{s.keys.Leader()}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("watch lease: %w", err)
	}
	return n == 1, nil
}

// ReleaseLease gives the polling lease up if holder has it.
func (s *Store) ReleaseLease(ctx context.Context, holder string) error {
	return releaseScript.Run(ctx, s.rdb, []string{s.keys.Leader()}, holder).Err()
}
