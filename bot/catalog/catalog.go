package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// Defaults of Options.
const (
	DefaultMaxAge       = 5 * time.Minute
	DefaultRefreshEvery = time.Minute
	DefaultKeep         = 24 * time.Hour
	DefaultTimeout      = 5 * time.Second
	DefaultMaxPages     = 10
)

// Source is where the lists come from: *xplenty.Client, whose every call
// counts against the account's hourly budget.
type Source interface {
	ListAllPackages(ctx context.Context, opts xplenty.PackageListOptions, maxPages int) ([]xplenty.Package, bool, error)
	ListAllClusters(ctx context.Context, opts xplenty.ClusterListOptions, maxPages int) ([]xplenty.Cluster, bool, error)
}

var _ Source = (*xplenty.Client)(nil)

// Store is the Redis side of the catalog: *store.Store.
type Store interface {
	CatalogGet(ctx context.Context, kind store.CatalogKind) ([]byte, error)
	CatalogPut(ctx context.Context, kind store.CatalogKind, value []byte, keep time.Duration) error
	CatalogRefreshTurn(ctx context.Context, kind store.CatalogKind, period time.Duration) (bool, error)
}

var _ Store = (*store.Store)(nil)

// Options configure a Catalog. Zero values take the defaults.
type Options struct {
	// MaxAge is how long a list counts as fresh (DefaultMaxAge); an older
	// one is a miss and is refreshed.
	MaxAge time.Duration
	// RefreshEvery bounds the refreshes of each list, across replicas
	// (DefaultRefreshEvery).
	RefreshEvery time.Duration
	// Keep is how long Redis keeps a list, stale or not, to answer while
	// Xplenty cannot be reached (DefaultKeep).
	Keep time.Duration
	// Timeout bounds a refresh (DefaultTimeout): a command waits no longer
	// for Xplenty than that.
	Timeout time.Duration
	// MaxPages bounds the pages of one refresh (DefaultMaxPages).
	MaxPages int
	// Now is the clock (time.Now); give the store the same one.
	Now func() time.Time
}

// List is a list of the catalog as it is known. It is never a reason to
// refuse a run by id: a caller that finds nothing in it goes on with the
// id alone.
type List[T any] struct {
	Items []T
	// Fetched is when Xplenty returned the list; zero when the catalog
	// knows nothing (then Items is empty).
	Fetched time.Time
	// Stale reports a list older than MaxAge: Xplenty could not be reached,
	// or another refresh was under way or too recent.
	Stale bool
	// Truncated reports that Xplenty announced more than MaxPages pages.
	Truncated bool
	// Err is why this call could not refresh the list or read it from
	// Redis, for the logs; nil when it did not need to.
	Err error
}

// Known reports whether the catalog has the list at all.
func (l List[T]) Known() bool { return !l.Fetched.IsZero() }

// saved is a list as kept in Redis.
type saved[T any] struct {
	Fetched   int64 `json:"fetched"` // unix ms
	Truncated bool  `json:"truncated,omitempty"`
	Items     []T   `json:"items"`
}

// Catalog is the account's packages and clusters. It is safe for
// concurrent use; several Catalogs (one per replica) on one Redis share
// the lists and their refreshes.
type Catalog struct {
	store  Store
	source Source
	opts   Options

	mu   sync.Mutex
	last map[store.CatalogKind][]byte // the last list seen, for when Redis fails
	// inflight is closed when this replica's refresh of a kind ends.
	inflight map[store.CatalogKind]chan struct{}
}

// New returns a Catalog reading st and refreshing from src.
func New(st Store, src Source, opts Options) (*Catalog, error) {
	if st == nil || src == nil {
		return nil, errors.New("catalog: a store and a source are required")
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.RefreshEvery <= 0 {
		opts.RefreshEvery = DefaultRefreshEvery
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Keep < opts.MaxAge {
		opts.Keep = opts.MaxAge
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Catalog{store: st, source: src, opts: opts, last: map[store.CatalogKind][]byte{},
		inflight: map[store.CatalogKind]chan struct{}{}}, nil
}

// Packages returns the account's packages, archived ones included.
func (c *Catalog) Packages(ctx context.Context) List[xplenty.Package] {
	return get(ctx, c, store.CatalogPackages, c.fetchPackages, false)
}

// Clusters returns the account's clusters, terminated ones included.
func (c *Catalog) Clusters(ctx context.Context) List[xplenty.Cluster] {
	return get(ctx, c, store.CatalogClusters, c.fetchClusters, false)
}

// Package returns the package with id. An id the list does not hold is a
// miss: the list is refreshed if its turn allows. false: not known (the
// catalog cannot say whether it exists).
func (c *Catalog) Package(ctx context.Context, id int64) (xplenty.Package, bool) {
	return find(ctx, c, store.CatalogPackages, c.fetchPackages, func(p xplenty.Package) bool { return p.ID == id })
}

// Cluster returns the cluster with id, as Package does.
func (c *Catalog) Cluster(ctx context.Context, id int64) (xplenty.Cluster, bool) {
	return find(ctx, c, store.CatalogClusters, c.fetchClusters, func(cl xplenty.Cluster) bool { return cl.ID == id })
}

func (c *Catalog) fetchPackages(ctx context.Context) ([]xplenty.Package, bool, error) {
	return c.source.ListAllPackages(ctx, xplenty.PackageListOptions{Status: "all"}, c.opts.MaxPages)
}

func (c *Catalog) fetchClusters(ctx context.Context) ([]xplenty.Cluster, bool, error) {
	return c.source.ListAllClusters(ctx, xplenty.ClusterListOptions{Status: "all"}, c.opts.MaxPages)
}

// find looks for an item, refreshing once on a miss.
func find[T any](ctx context.Context, c *Catalog, kind store.CatalogKind, fetch func(context.Context) ([]T, bool, error), match func(T) bool) (T, bool) {
	l := get(ctx, c, kind, fetch, false)
	for _, it := range l.Items {
		if match(it) {
			return it, true
		}
	}
	if l.Known() && !l.Stale && l.Err == nil {
		l = get(ctx, c, kind, fetch, true)
		for _, it := range l.Items {
			if match(it) {
				return it, true
			}
		}
	}
	var zero T
	return zero, false
}

// get returns the list of kind: from Redis when fresh (and force is
// false), else refreshed from the source when this caller has the turn,
// else what Redis (or, when Redis fails, this replica) last had.
func get[T any](ctx context.Context, c *Catalog, kind store.CatalogKind, fetch func(context.Context) ([]T, bool, error), force bool) List[T] {
	now := c.opts.Now()
	raw, rerr := c.store.CatalogGet(ctx, kind)
	if rerr != nil || raw == nil {
		c.mu.Lock()
		raw = c.last[kind]
		c.mu.Unlock()
	}
	have := decode[T](raw, now, c.opts.MaxAge)
	have.Err = rerr
	if have.Known() && !have.Stale && !force {
		c.remember(kind, raw)
		return have
	}
	turn, err := c.store.CatalogRefreshTurn(ctx, kind, c.opts.RefreshEvery)
	if err != nil {
		have.Err = err
		return have
	}
	if !turn {
		if !have.Known() {
			// Someone else is fetching the first list: this replica (its
			// warm-up at start), or another one; wait for it, within the
			// refresh timeout, rather than answer that nothing is known.
			if l := awaitOwn(ctx, c, kind, have, now); l.Known() {
				return l
			}
			return waitFor[T](ctx, c, kind, c.opts.Timeout)
		}
		return have
	}
	// The refresh has the turn of the period for every replica: it runs to
	// its end (at most Timeout) even when this caller stops waiting, as the
	// form's reads do well within Slack's 3 s, so that the list reaches
	// Redis rather than the turn being spent for nothing.
	done := make(chan List[T], 1)
	ended := make(chan struct{})
	c.mu.Lock()
	c.inflight[kind] = ended
	c.mu.Unlock()
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
		defer cancel()
		fresh := refresh(fctx, c, kind, fetch, now)
		c.mu.Lock()
		if c.inflight[kind] == ended {
			delete(c.inflight, kind)
		}
		c.mu.Unlock()
		close(ended)
		done <- fresh
	}()
	select {
	case fresh := <-done:
		if fresh.Known() {
			return fresh
		}
		have.Err = fresh.Err
	case <-ctx.Done():
		have.Err = ctx.Err()
	}
	return have
}

// awaitOwn waits for this replica's refresh of kind, when one is under
// way, for a caller that finds no list at all (a command just after the
// warm-up at start began): without it, the caller would be told Xplenty
// is out of reach. A refresh that ended since the caller read Redis has
// left its list in this replica. It returns have when there is no list.
func awaitOwn[T any](ctx context.Context, c *Catalog, kind store.CatalogKind, have List[T], now time.Time) List[T] {
	c.mu.Lock()
	ended := c.inflight[kind]
	c.mu.Unlock()
	if ended != nil {
		select {
		case <-ended:
		case <-ctx.Done():
			return have
		}
	}
	c.mu.Lock()
	raw := c.last[kind]
	c.mu.Unlock()
	if l := decode[T](raw, now, c.opts.MaxAge); l.Known() {
		return l
	}
	return have
}

// refresh reads the list of kind from the source and keeps it, in Redis
// and in this replica; a list that is not known carries the reason.
func refresh[T any](ctx context.Context, c *Catalog, kind store.CatalogKind, fetch func(context.Context) ([]T, bool, error), now time.Time) List[T] {
	items, truncated, err := fetch(ctx)
	if err != nil {
		return List[T]{Err: err}
	}
	b, err := json.Marshal(saved[T]{Fetched: now.UnixMilli(), Truncated: truncated, Items: items})
	if err != nil {
		return List[T]{Err: err}
	}
	c.remember(kind, b)
	fresh := List[T]{Items: items, Fetched: time.UnixMilli(now.UnixMilli()).UTC(), Truncated: truncated}
	if err := c.store.CatalogPut(ctx, kind, b, c.opts.Keep); err != nil {
		fresh.Err = err // the list is good; only the other replicas miss it
	}
	return fresh
}

// waitFor polls Redis for the list of kind until another caller has saved
// it, for at most d; what it returns is unknown when none came.
func waitFor[T any](ctx context.Context, c *Catalog, kind store.CatalogKind, d time.Duration) List[T] {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return List[T]{Err: ctx.Err()}
		case <-t.C:
		}
		raw, err := c.store.CatalogGet(ctx, kind)
		if err == nil && raw != nil {
			if l := decode[T](raw, c.opts.Now(), c.opts.MaxAge); l.Known() {
				c.remember(kind, raw)
				return l
			}
		}
	}
}

func (c *Catalog) remember(kind store.CatalogKind, raw []byte) {
	c.mu.Lock()
	c.last[kind] = raw
	c.mu.Unlock()
}

// decode reads a saved list; nothing (unknown) when raw is empty or
// unreadable.
func decode[T any](raw []byte, now time.Time, maxAge time.Duration) List[T] {
	var s saved[T]
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil || s.Fetched <= 0 {
		return List[T]{}
	}
	fetched := time.UnixMilli(s.Fetched).UTC()
	return List[T]{Items: s.Items, Fetched: fetched, Truncated: s.Truncated, Stale: now.Sub(fetched) >= maxAge}
}
