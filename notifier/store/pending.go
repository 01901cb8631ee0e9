package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
)

// Pending is a run waiting for its runner's confirmation (a protected
// cluster or package), kept until the policy's confirm_within runs out.
// Its JSON names are the stored schema.
type Pending struct {
	User    string       `json:"user"`
	Channel string       `json:"channel"`
	Action  string       `json:"action"` // run or rerun
	Run     commands.Run `json:"launch"`
}

// SavePending keeps a run that waits for its runner's confirmation.
// It may hold secret values, so it is sealed whole.
func (s *Store) SavePending(ctx context.Context, token string, p Pending, ttl time.Duration) error {
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("save confirmation: %w", err)
	}
	if err := s.rdb.Set(ctx, s.keys.Confirm(token), s.sealer.seal("pending:"+token, string(data)), ttl).Err(); err != nil {
		return fmt.Errorf("save confirmation: %w", err)
	}
	return nil
}

// PeekPending returns a waiting run without taking it.
func (s *Store) PeekPending(ctx context.Context, token string) (Pending, error) {
	v, err := s.rdb.Get(ctx, s.keys.Confirm(token)).Result()
	if errors.Is(err, redis.Nil) {
		return Pending{}, ErrExpired
	}
	if err != nil {
		return Pending{}, fmt.Errorf("read confirmation: %w", err)
	}
	return s.openPending(token, v)
}

func (s *Store) openPending(token, v string) (Pending, error) {
	var p Pending
	plain, err := s.sealer.openBlob("pending:"+token, v)
	if err != nil {
		return p, ErrExpired // sealed with another key: as good as gone
	}
	if err := json.Unmarshal([]byte(plain), &p); err != nil {
		return p, fmt.Errorf("decode confirmation: %w", err)
	}
	return p, nil
}

// TakePending removes a waiting run and returns it; of two clicks racing,
// exactly one gets it (GETDEL is atomic).
func (s *Store) TakePending(ctx context.Context, token string) (Pending, error) {
	v, err := s.rdb.GetDel(ctx, s.keys.Confirm(token)).Result()
	if errors.Is(err, redis.Nil) {
		return Pending{}, ErrExpired
	}
	if err != nil {
		return Pending{}, fmt.Errorf("take confirmation: %w", err)
	}
	return s.openPending(token, v)
}
