package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// Cursor is where the watcher's next walk of the change list begins: the
// jobs changed since Since, less the first Offset of them. Offset is 0
// but after a walk cut short (at its page limit) whose pages all changed
// too close to Since for the mark to move past them, as when more jobs
// than the walk reads change in the same second: the next walk goes on
// from there instead of reading the same pages again.
type Cursor struct {
	Since  time.Time
	Offset int
}

// Since returns the watcher's high-water mark; ok is false when no job was
// ever tracked.
func (s *Store) Since(ctx context.Context) (t time.Time, ok bool, err error) {
	c, ok, err := s.Cursor(ctx)
	return c.Since, ok, err
}

// Cursor returns where the watcher's next walk begins; ok is false when
// no job was ever tracked.
func (s *Store) Cursor(ctx context.Context) (c Cursor, ok bool, err error) {
	v, err := s.rdb.Get(ctx, s.keys.Since()).Result()
	if errors.Is(err, redis.Nil) {
		return Cursor{}, false, nil
	}
	if err != nil {
		return Cursor{}, false, fmt.Errorf("read watermark: %w", err)
	}
	// "2026-11-28T12:00:00Z", or with an offset "2026-11-28T12:00:00Z +900"
	// (Track compares the value as a string, which the suffix keeps valid).
	mark, off, _ := strings.Cut(v, " +")
	if c.Since, err = time.Parse(time.RFC3339, mark); err != nil {
		return Cursor{}, false, fmt.Errorf("read watermark %q: %w", v, err)
	}
	if off != "" {
		if c.Offset, err = strconv.Atoi(off); err != nil || c.Offset < 0 {
			return Cursor{}, false, fmt.Errorf("read watermark %q: bad offset", v)
		}
	}
	return c, true, nil
}

// SetSince moves the watcher's high-water mark (with no offset).
func (s *Store) SetSince(ctx context.Context, t time.Time) error {
	return s.SetCursor(ctx, Cursor{Since: t})
}

// SetCursor sets where the watcher's next walk begins.
func (s *Store) SetCursor(ctx context.Context, c Cursor) error {
	v := c.Since.UTC().Format(time.RFC3339)
	if c.Offset > 0 {
		v += " +" + strconv.Itoa(c.Offset)
	}
	return s.rdb.Set(ctx, s.keys.Since(), v, 0).Err()
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
