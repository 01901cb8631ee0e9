package store

import (
	"context"
	"fmt"

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

// MarkDelivered records that the reply to job id for status was posted as
// ts; the marker lives as long as finished records.
func (s *Store) MarkDelivered(ctx context.Context, id int64, status xplenty.Status, ts string) error {
	if err := s.rdb.Set(ctx, s.keys.Delivered(id, status), ts, s.retention).Err(); err != nil {
		return fmt.Errorf("mark reply to job %d delivered: %w", id, err)
	}
	return nil
}

// MarkAttempt records, for holder, that a post of the reply to job id for
// status is being tried, and reports whether this is the first try.
func (s *Store) MarkAttempt(ctx context.Context, id int64, status xplenty.Status, holder string) (bool, error) {
	first, err := s.rdb.SetNX(ctx, s.keys.Attempt(id, status), holder, s.retention).Result()
	if err != nil {
		return false, fmt.Errorf("reply to job %d: %w", id, err)
	}
	return first, nil
}

// ClearAttempt forgets an attempt marked with MarkAttempt.
func (s *Store) ClearAttempt(ctx context.Context, id int64, status xplenty.Status) error {
	return s.rdb.Del(ctx, s.keys.Attempt(id, status)).Err()
}
