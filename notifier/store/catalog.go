package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The catalog's Redis side: one value per kind (what bot/catalog last read
// from Xplenty, in its own encoding) and a marker that lets one replica at
// a time, and at most once per period, refresh it.

// CatalogKind names a list of the catalog.
type CatalogKind string

// The catalog's lists.
const (
	CatalogPackages CatalogKind = "packages"
	CatalogClusters CatalogKind = "clusters"
)

func (k CatalogKind) valid() error {
	if k != CatalogPackages && k != CatalogClusters {
		return fmt.Errorf("catalog: unknown kind %q", string(k))
	}
	return nil
}

// catalogRefreshScript gives out the turn to refresh a list of the
// catalog: at most one per period, whichever replica asks first.
//
// KEYS: the refresh marker. ARGV: now (ms), period (ms). It returns 1 when
// the caller may refresh, 0 when a refresh started less than a period ago.
var catalogRefreshScript = script("catalog_refresh")

// CatalogGet returns the value last saved for kind, nil when there is none
// (never saved, or expired).
func (s *Store) CatalogGet(ctx context.Context, kind CatalogKind) ([]byte, error) {
	if err := kind.valid(); err != nil {
		return nil, err
	}
	b, err := s.rdb.Get(ctx, s.keys.Catalog(kind)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", kind, err)
	}
	return b, nil
}

// CatalogPut saves the value of kind, kept for keep: long enough to answer
// with a stale list while Xplenty cannot be reached.
func (s *Store) CatalogPut(ctx context.Context, kind CatalogKind, value []byte, keep time.Duration) error {
	if err := kind.valid(); err != nil {
		return err
	}
	if keep <= 0 {
		return fmt.Errorf("catalog %s: keep must be positive, got %s", kind, keep)
	}
	if err := s.rdb.Set(ctx, s.keys.Catalog(kind), value, keep).Err(); err != nil {
		return fmt.Errorf("save catalog %s: %w", kind, err)
	}
	return nil
}

// CatalogRefreshTurn reports whether the caller may refresh kind now: true
// for the first caller of every replica, then false until period has
// passed (on the store's clock) since the turn was given.
func (s *Store) CatalogRefreshTurn(ctx context.Context, kind CatalogKind, period time.Duration) (bool, error) {
	if err := kind.valid(); err != nil {
		return false, err
	}
	if period < time.Millisecond {
		return false, fmt.Errorf("catalog %s: refresh period must be at least 1ms, got %s", kind, period)
	}
	n, err := catalogRefreshScript.Run(ctx, s.rdb, []string{s.keys.CatalogRefresh(kind)}, s.now().UnixMilli(), period.Milliseconds()).Int64()
	if err != nil {
		return false, fmt.Errorf("catalog %s refresh turn: %w", kind, err)
	}
	return n == 1, nil
}
