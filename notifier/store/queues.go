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

// QueueStats describe what waits to be delivered.
type QueueStats struct {
	Replies      int64         // thread messages in the outbox
	OldestReply  time.Duration // age of the oldest of them
	CardsPending int64         // cards marked for an edit, due or not
	CardsDue     int64         // of which due now
	OldestCard   time.Duration // how long the card due first has been due
}

// Queues reads the queue depths, for metrics and for draining at shutdown.
func (s *Store) Queues(ctx context.Context) (QueueStats, error) {
	now := s.now()
	var st QueueStats
	var first *redis.XMessageSliceCmd
	var pending, due *redis.IntCmd
	var head *redis.ZSliceCmd
	var replies *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		first = p.XRangeN(ctx, s.keys.Outbox(), "-", "+", 1)
		replies = p.XLen(ctx, s.keys.Outbox())
		pending = p.ZCard(ctx, s.keys.Cards())
		due = p.ZCount(ctx, s.keys.Cards(), "-inf", strconv.FormatInt(now.UnixMilli(), 10))
		head = p.ZRangeWithScores(ctx, s.keys.Cards(), 0, 0)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return st, fmt.Errorf("queue depths: %w", err)
	}
	st.Replies = replies.Val()
	if msgs := first.Val(); len(msgs) > 0 {
		// A stream entry's id starts with its time in ms.
		ms, _, _ := strings.Cut(msgs[0].ID, "-")
		if ms, err := strconv.ParseInt(ms, 10, 64); err == nil {
			st.OldestReply = max(0, now.Sub(time.UnixMilli(ms)))
		}
	}
	st.CardsPending, st.CardsDue = pending.Val(), due.Val()
	if h := head.Val(); len(h) > 0 {
		st.OldestCard = max(0, now.Sub(time.UnixMilli(int64(h[0].Score))))
	}
	return st, nil
}
