package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Claim records key as handled for ttl and reports whether this caller is
// the first to claim it. It is how a redelivered envelope, a double click or
// a second replica is told to stand down: SET NX is atomic, unlike
// GET-then-SET.
// When the store waits for a replica (Options.ReplicaWait), a claim
// returns once the replica has it (durably): a
// claim lost in a failover would let the event's redelivery start a
// second job.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	var set *redis.BoolCmd
	err := s.durably(ctx, WriteClaim, func(p redis.Pipeliner) {
		set = p.SetNX(ctx, s.keys.Dedupe(key), s.now().UTC().Format(time.RFC3339Nano), ttl)
	})
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", key, err)
	}
	return set.Val(), nil
}

// Release gives up a claim, so that a command that failed before doing
// anything can be tried again.
func (s *Store) Release(ctx context.Context, key string) error {
	return s.rdb.Del(ctx, s.keys.Dedupe(key)).Err()
}

// Lock takes a short-lived named lock for holder and reports whether it got
// it; Unlock releases it only if holder still has it (a lock that expired
// and was taken by another must not be released by the first).
func (s *Store) Lock(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.keys.Lock(name), holder, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", name, err)
	}
	return ok, nil
}

// Unlock releases a lock taken with Lock, if holder still has it.
func (s *Store) Unlock(ctx context.Context, name, holder string) error {
	return releaseScript.Run(ctx, s.rdb, []string{s.keys.Lock(name)}, holder).Err()
}

// renewScript extends a lock's life only if the caller still holds it.
var renewScript = script("renew")

// RenewLock extends a lock taken with Lock to ttl from now and reports
// whether holder still had it; a lock that expired, or was taken by
// another since, is not renewed.
func (s *Store) RenewLock(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	n, err := renewScript.Run(ctx, s.rdb, []string{s.keys.Lock(name)}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("renew lock %s: %w", name, err)
	}
	return n == 1, nil
}
