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

// ErrBadMark is returned (wrapped) by Cursor and Since when the stored
// mark cannot be read; RepairSince sets a readable one.
var ErrBadMark = errors.New("watermark unreadable")

// Since returns the watcher's high-water mark; ok is false when no job was
// ever tracked.
func (s *Store) Since(ctx context.Context) (t time.Time, ok bool, err error) {
	c, ok, err := s.Cursor(ctx)
	return c.Since, ok, err
}

// Cursor returns where the watcher's next walk begins; ok is false when
// no job was ever tracked. The offset is kept in a key of its own, with
// the mark it belongs to: it counts only while that mark is the mark, so
// a mark moved by anything else (Track, SetSince, an older version of the
// bot during a rolling upgrade) drops it.
func (s *Store) Cursor(ctx context.Context) (c Cursor, ok bool, err error) {
	vals, err := s.rdb.MGet(ctx, s.keys.Since(), s.keys.Offset()).Result()
	if err != nil {
		return Cursor{}, false, fmt.Errorf("read watermark: %w", err)
	}
	mark, _ := vals[0].(string)
	if vals[0] == nil {
		return Cursor{}, false, nil
	}
	if c.Since, err = time.Parse(time.RFC3339, mark); err != nil {
		return Cursor{}, false, fmt.Errorf("read watermark %q: %w", mark, ErrBadMark)
	}
	if off, _ := vals[1].(string); off != "" {
		if of, n, _ := strings.Cut(off, " "); of == mark {
			if c.Offset, err = strconv.Atoi(n); err != nil || c.Offset < 0 {
				c.Offset = 0 // unreadable: the walk starts at the mark
			}
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
	mark := c.Since.UTC().Format(time.RFC3339)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.keys.Since(), mark, 0)
		if c.Offset > 0 {
			p.Set(ctx, s.keys.Offset(), mark+" "+strconv.Itoa(c.Offset), 0)
		} else {
			p.Del(ctx, s.keys.Offset())
		}
		return nil
	})
	return err
}

// RepairSince sets the mark to a minute before the oldest followed job
// was created (now less a minute when none is followed), for a mark that
// cannot be read or lies far in the future: from there the change list
// holds every change of every followed job. It returns the new mark.
func (s *Store) RepairSince(ctx context.Context) (time.Time, error) {
	n, err := s.ActiveCount(ctx)
	if err != nil {
		return time.Time{}, err
	}
	oldest := s.now()
	if n > 0 {
		recs, _, err := s.Running(ctx, int(n))
		if err != nil {
			return time.Time{}, err
		}
		for _, r := range recs {
			if !r.CreatedAt.IsZero() && r.CreatedAt.Before(oldest) {
				oldest = r.CreatedAt
			}
		}
	}
	mark := oldest.Add(-time.Minute).UTC().Truncate(time.Second)
	return mark, s.SetSince(ctx, mark)
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
