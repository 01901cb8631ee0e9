package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/xplenty"
)

// A terminal reply is posted at most once: a delivered marker holds the
// ts of the reply once posted, and an attempt marker says a post of it was
// tried (so that the next try searches the thread first).

// Delivered reports whether the reply to job id for status was posted.
func (s *Store) Delivered(ctx context.Context, id int64, status xplenty.Status) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys.Delivered(id, status)).Result()
	if err != nil {
		return false, fmt.Errorf("reply to job %d: %w", id, err)
	}
	return n == 1, nil
}

// What a delivered marker holds besides the ts of a thread reply.
const (
	// DeliveredSkipped: the channel's notify settings left the reply out.
	DeliveredSkipped = "skipped"
	// DeliveredDM prefixes the ts of a reply sent to the requester as a
	// direct message instead (the card's channel could not take it).
	DeliveredDM = "dm:"
)

// MarkDelivered records that the reply to job id for status was dealt with
// for good: posted as ts (or DeliveredSkipped, or DeliveredDM and the ts);
// the marker lives as long as finished records.
func (s *Store) MarkDelivered(ctx context.Context, id int64, status xplenty.Status, ts string) error {
	if err := s.rdb.Set(ctx, s.keys.Delivered(id, status), ts, s.retention).Err(); err != nil {
		return fmt.Errorf("mark reply to job %d delivered: %w", id, err)
	}
	return nil
}

// MarkAttempt records, for holder, that a post of the reply to job id for
// status is being tried, and reports whether this is the first try. When
// the store waits for a replica (Options.ReplicaWait) it returns once the
// replica has the marker (durably): a marker
// lost in a failover would let the next try post without searching the
// thread first.
func (s *Store) MarkAttempt(ctx context.Context, id int64, status xplenty.Status, holder string) (bool, error) {
	var set *redis.BoolCmd
	err := s.durably(ctx, WriteAttempt, func(p redis.Pipeliner) {
		set = p.SetNX(ctx, s.keys.Attempt(id, status), holder, s.retention)
	})
	if err != nil {
		return false, fmt.Errorf("reply to job %d: %w", id, err)
	}
	return set.Val(), nil
}

// ClearAttempt forgets an attempt marked with MarkAttempt.
func (s *Store) ClearAttempt(ctx context.Context, id int64, status xplenty.Status) error {
	return s.rdb.Del(ctx, s.keys.Attempt(id, status)).Err()
}

// MarkDMAttempt records, for holder, that the reply to job id for status is
// being sent to its requester as a direct message, and reports whether this
// is the first try. A direct message cannot be looked for afterwards (the
// bot does not read direct messages), so a later try must not send it
// again: a reply goes as a direct message at most once.
func (s *Store) MarkDMAttempt(ctx context.Context, id int64, status xplenty.Status, holder string) (bool, error) {
	var set *redis.BoolCmd
	err := s.durably(ctx, WriteDM, func(p redis.Pipeliner) {
		set = p.SetNX(ctx, s.keys.DM(id, status), holder, s.retention)
	})
	if err != nil {
		return false, fmt.Errorf("direct message for job %d: %w", id, err)
	}
	return set.Val(), nil
}

// DMAttempted reports whether a direct message of the reply to job id for
// status was tried (MarkDMAttempt).
func (s *Store) DMAttempted(ctx context.Context, id int64, status xplenty.Status) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys.DM(id, status)).Result()
	if err != nil {
		return false, fmt.Errorf("direct message for job %d: %w", id, err)
	}
	return n == 1, nil
}

// ClearDMAttempt forgets a try of MarkDMAttempt that certainly sent
// nothing, so that the next one may.
func (s *Store) ClearDMAttempt(ctx context.Context, id int64, status xplenty.Status) error {
	return s.rdb.Del(ctx, s.keys.DM(id, status)).Err()
}
