package catalog

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rig is the fake Xplenty, one Redis, and the catalogs of two replicas.
type rig struct {
	clk   *clock
	x     *xplentytest.Server
	calls atomic.Int64 // catalog calls the client made, retries included
	rdb   redis.UniversalClient
	a, b  *Catalog
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{clk: &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}}
	r.x = xplentytest.New(xplentytest.Options{Now: r.clk.Now})
	t.Cleanup(r.x.Close)
	rdb, prefix := redistest.Client(t)
	r.rdb = rdb
	replica := func() *Catalog {
		c, err := xplenty.New(xplenty.Config{BaseURL: r.x.URL(), AccountID: r.x.AccountID(), APIKey: r.x.APIKey(),
			RetryBase: time.Millisecond, RetryMax: 2 * time.Millisecond, UserAgent: "runjob/test",
			OnResponse: func(_, route string, _ int, _ time.Duration) {
				if route == "/packages" || route == "/clusters" {
					r.calls.Add(1)
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.New(rdb, store.Options{Prefix: prefix, Now: r.clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		cat, err := New(st, c, Options{Now: r.clk.Now, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return cat
	}
	r.a, r.b = replica(), replica()
	return r
}

func names[T any](items []T, name func(T) string) map[string]bool {
	out := map[string]bool{}
	for _, it := range items {
		out[name(it)] = true
	}
	return out
}

// A list is read from Xplenty once, then served from Redis until it is
// five minutes old; the other replica uses it too.
func TestCatalogCachedAndShared(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	p := r.a.Packages(ctx)
	if !p.Known() || p.Stale || p.Err != nil || len(p.Items) != 5 {
		t.Fatalf("packages = %+v", p)
	}
	if n := names(p.Items, func(p xplenty.Package) string { return p.Name }); !n["orders_daily"] || !n["legacy_export"] {
		t.Errorf("packages = %v (archived ones included)", n)
	}
	cl := r.a.Clusters(ctx)
	if !cl.Known() || len(cl.Items) != 4 || !names(cl.Items, func(c xplenty.Cluster) string { return c.Name })["old-etl"] {
		t.Fatalf("clusters = %+v", cl)
	}
	calls, reqs := r.calls.Load(), r.x.RequestCount()
	if calls != 2 {
		t.Errorf("%d list calls, want 2", calls)
	}
	r.clk.Add(4 * time.Minute)
	for _, c := range []*Catalog{r.a, r.b, r.a} {
		if p := c.Packages(ctx); len(p.Items) != 5 || p.Stale || p.Err != nil {
			t.Fatalf("cached packages = %+v", p)
		}
		if pk, ok := c.Package(ctx, 434); !ok || pk.Name != "orders_daily" {
			t.Fatalf("Package(434) = %+v, %v", pk, ok)
		}
		if cl, ok := c.Cluster(ctx, 48); !ok || cl.Status != xplenty.ClusterTerminated {
			t.Fatalf("Cluster(48) = %+v, %v", cl, ok)
		}
	}
	if r.x.RequestCount() != reqs {
		t.Errorf("%d requests to Xplenty while cached", r.x.RequestCount()-reqs)
	}
	// Five minutes old: a miss, refreshed by one replica for both.
	r.clk.Add(time.Minute)
	if err := r.x.SetClusterStatus(52, xplenty.ClusterTerminated); err != nil {
		t.Fatal(err)
	}
	if cl, ok := r.b.Cluster(ctx, 52); !ok || cl.Status != xplenty.ClusterTerminated {
		t.Fatalf("after expiry Cluster(52) = %+v, %v", cl, ok)
	}
	if cl, ok := r.a.Cluster(ctx, 52); !ok || cl.Status != xplenty.ClusterTerminated {
		t.Fatalf("other replica Cluster(52) = %+v, %v", cl, ok)
	}
	if got := r.calls.Load() - calls; got != 1 {
		t.Errorf("%d refreshes for two replicas, want 1", got)
	}
}

// An id the list does not hold is a miss: the list is refreshed, but at
// most once a minute across replicas.
func TestCatalogMissRefreshesOnceAMinute(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	if p := r.a.Packages(ctx); len(p.Items) != 5 {
		t.Fatalf("packages = %+v", p)
	}
	calls := r.calls.Load()
	for _, c := range []*Catalog{r.a, r.b, r.a, r.b} {
		if _, ok := c.Package(ctx, 700); ok {
			t.Fatal("package 700 found before it exists")
		}
	}
	if got := r.calls.Load() - calls; got != 0 {
		t.Errorf("%d refreshes in the minute of the first read, want 0", got)
	}
	if err := r.x.AddPackage(xplenty.Package{ID: 700, Name: "new_flow"}); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(30 * time.Second)
	if _, ok := r.b.Package(ctx, 700); ok {
		t.Fatal("refreshed within the minute")
	}
	r.clk.Add(30 * time.Second)
	if p, ok := r.b.Package(ctx, 700); !ok || p.Name != "new_flow" {
		t.Fatalf("after a minute Package(700) = %+v, %v", p, ok)
	}
	if p, ok := r.a.Package(ctx, 700); !ok || p.Name != "new_flow" {
		t.Fatalf("other replica Package(700) = %+v, %v", p, ok)
	}
	for range 3 {
		r.a.Package(ctx, 999)
		r.b.Package(ctx, 999)
	}
	if got := r.calls.Load() - calls; got != 1 {
		t.Errorf("%d refreshes, want 1", got)
	}
	r.clk.Add(time.Minute)
	r.a.Package(ctx, 999)
	r.b.Package(ctx, 999)
	if got := r.calls.Load() - calls; got != 2 {
		t.Errorf("%d refreshes after another minute, want 2", got)
	}
}

// Many callers on both replicas at once: one refresh.
func TestCatalogConcurrentMissOneRefresh(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	var wg sync.WaitGroup
	var unknown atomic.Int64
	for i := range 10 {
		c := []*Catalog{r.a, r.b}[i%2]
		wg.Go(func() {
			// Those that do not fetch wait for the one that does.
			if !c.Clusters(ctx).Known() {
				unknown.Add(1)
			}
		})
	}
	wg.Wait()
	if n := unknown.Load(); n != 0 {
		t.Errorf("%d of 10 concurrent first reads found nothing", n)
	}
	if got := r.calls.Load(); got != 1 {
		t.Errorf("%d refreshes, want 1", got)
	}
	if cl := r.b.Clusters(ctx); len(cl.Items) != 4 {
		t.Errorf("clusters = %+v", cl)
	}
}

// Xplenty down: a stale list when there is one, "not known" otherwise,
// never an error that stops a run by id.
func TestCatalogXplentyDown(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	if p := r.a.Packages(ctx); len(p.Items) != 5 {
		t.Fatalf("packages = %+v", p)
	}
	r.x.Close()
	r.clk.Add(10 * time.Minute)
	p := r.b.Packages(ctx)
	if !p.Known() || !p.Stale || p.Err == nil || len(p.Items) != 5 {
		t.Fatalf("stale packages = %+v", p)
	}
	if pk, ok := r.a.Package(ctx, 434); !ok || pk.Name != "orders_daily" {
		t.Errorf("stale Package(434) = %+v, %v", pk, ok)
	}
	if res := ResolvePackage(p.Items, "orders_daily"); res.Outcome != Resolved || res.ID != 434 {
		t.Errorf("resolve on the stale list = %+v", res)
	}
	// Clusters were never read: not known, and a run by id still resolves.
	cl := r.a.Clusters(ctx)
	if cl.Known() || len(cl.Items) != 0 || cl.Err == nil {
		t.Fatalf("unknown clusters = %+v", cl)
	}
	if _, ok := r.a.Cluster(ctx, 52); ok {
		t.Error("Cluster(52) known with Xplenty down and nothing cached")
	}
	if res := ResolveCluster(cl.Items, "52"); res.Outcome != Resolved || res.ID != 52 || !res.Usable {
		t.Errorf("ResolveCluster by id on nothing = %+v", res)
	}
}

// Redis down: the replica answers with the list it last saw, or not known.
func TestCatalogRedisDown(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	if p := r.a.Packages(ctx); len(p.Items) != 5 {
		t.Fatalf("packages = %+v", p)
	}
	if err := r.rdb.Close(); err != nil {
		t.Fatal(err)
	}
	if p := r.a.Packages(ctx); !p.Known() || len(p.Items) != 5 || p.Err == nil {
		t.Errorf("packages with Redis down = %+v", p)
	}
	if cl := r.b.Clusters(ctx); cl.Known() || cl.Err == nil || !errors.Is(cl.Err, redis.ErrClosed) {
		t.Errorf("clusters with Redis down = %+v", cl)
	}
}

// A slow Xplenty costs a command at most Timeout.
func TestCatalogRefreshTimeout(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.a.opts.Timeout = 50 * time.Millisecond
	r.x.SetLatency(2 * time.Second)
	start := time.Now()
	p := r.a.Packages(ctx)
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s", took)
	}
	if p.Known() || p.Err == nil {
		t.Errorf("packages = %+v", p)
	}
}

// A caller that stops waiting (the form's reads are bounded well within
// Slack's 3 s) does not take the refresh it started with it: the refresh
// had the turn of the minute, and the list reaches Redis for everyone.
func TestCatalogRefreshOutlivesAnImpatientCaller(t *testing.T) {
	r := newRig(t)
	r.x.SetLatency(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if p := r.a.Packages(ctx); p.Err == nil && !p.Known() {
		t.Errorf("an unknown list without the reason: %+v", p)
	}
	limit := time.Now().Add(20 * time.Second) // a fail-safe
	for !r.b.Packages(context.Background()).Known() {
		if time.Now().After(limit) {
			t.Fatal("the refresh went with its caller, and the turn of the minute with it: no list")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := r.calls.Load(); got != 1 {
		t.Errorf("%d list calls, want the one", got)
	}
}

// A caller that finds no list while this replica is reading it (the
// warm-up at start, or another command) waits for that read rather than
// answering "not known" as if Xplenty could not be reached.
func TestCatalogEmptyWaitsForItsOwnRefreshUnderWay(t *testing.T) {
	r := newRig(t)
	r.x.SetLatency(300 * time.Millisecond)
	go r.a.Packages(context.Background())
	limit := time.Now().Add(20 * time.Second) // a fail-safe
	for r.x.RequestCount() == 0 {
		if time.Now().After(limit) {
			t.Fatal("no refresh started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if p := r.a.Packages(context.Background()); !p.Known() || len(p.Items) != 5 {
		t.Errorf("packages while this replica reads them = %+v", p)
	}
	if pk, ok := r.a.Package(context.Background(), 434); !ok || pk.Name != "orders_daily" {
		t.Errorf("Package(434) = %+v, %v", pk, ok)
	}
	if got := r.calls.Load(); got != 1 {
		t.Errorf("%d list calls, want the one", got)
	}
}

func TestNewNeedsStoreAndSource(t *testing.T) {
	if _, err := New(nil, nil, Options{}); err == nil {
		t.Error("New(nil, nil) succeeded")
	}
}
