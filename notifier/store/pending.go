package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// SavePending keeps a run that waits for its runner's confirmation.
// It may hold secret values, so it is sealed like them.
func (s *Store) SavePending(ctx context.Context, token string, data []byte, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, s.keys.Confirm(token), s.sealer.seal("pending:"+token, string(data)), ttl).Err(); err != nil {
		return fmt.Errorf("save confirmation: %w", err)
	}
	return nil
}

// PeekPending returns a waiting run without taking it.
func (s *Store) PeekPending(ctx context.Context, token string) ([]byte, error) {
	v, err := s.rdb.Get(ctx, s.keys.Confirm(token)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrExpired
	}
	if err != nil {
		return nil, fmt.Errorf("read confirmation: %w", err)
	}
	return s.openPending(token, v)
}

func (s *Store) openPending(token, v string) ([]byte, error) {
	plain, err := s.sealer.openBlob("pending:"+token, v)
	if err != nil {
		return nil, ErrExpired // sealed with another key: as good as gone
	}
	return []byte(plain), nil
}

// TakePending removes a waiting run and returns it; of two clicks racing,
// exactly one gets it (GETDEL is atomic).
func (s *Store) TakePending(ctx context.Context, token string) ([]byte, error) {
	v, err := s.rdb.GetDel(ctx, s.keys.Confirm(token)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrExpired
	}
	if err != nil {
		return nil, fmt.Errorf("take confirmation: %w", err)
	}
	return s.openPending(token, v)
}
