package store

import (
	"context"
	"testing"
	"time"
)

// The catalog's values: absent until saved, kept for as long as asked, and
// only for the kinds the catalog has.
func TestCatalogGetPut(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	s := newClockStore(t, &now)
	if v, err := s.CatalogGet(ctx, CatalogPackages); err != nil || v != nil {
		t.Fatalf("before any put: %q, %v", v, err)
	}
	if err := s.CatalogPut(ctx, CatalogPackages, []byte(`{"items":[]}`), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, err := s.CatalogGet(ctx, CatalogPackages); err != nil || string(v) != `{"items":[]}` {
		t.Fatalf("after put: %q, %v", v, err)
	}
	if v, err := s.CatalogGet(ctx, CatalogClusters); err != nil || v != nil {
		t.Fatalf("clusters are another value: %q, %v", v, err)
	}
	ttl, err := s.rdb.PTTL(ctx, s.keys.Catalog(CatalogPackages)).Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("kept for %s, %v; want about an hour", ttl, err)
	}
	if got := s.keys.Catalog(CatalogPackages); got != s.keys.prefix+"catalog:packages" {
		t.Errorf("key %q", got)
	}
	if _, err := s.CatalogGet(ctx, "jobs"); err == nil {
		t.Error("an unknown kind was read")
	}
	if err := s.CatalogPut(ctx, "jobs", nil, time.Hour); err == nil {
		t.Error("an unknown kind was saved")
	}
	if err := s.CatalogPut(ctx, CatalogClusters, nil, 0); err == nil {
		t.Error("saved with no expiry")
	}
}

// The refresh turn: one caller per period, whoever asks first, counted on
// the store's clock; the marker also expires in Redis so it never lingers;
// each kind has its own turn.
func TestCatalogRefreshTurn(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	s := newClockStore(t, &now)
	turn := func(kind CatalogKind) bool {
		t.Helper()
		ok, err := s.CatalogRefreshTurn(ctx, kind, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !turn(CatalogPackages) {
		t.Fatal("first caller refused")
	}
	if turn(CatalogPackages) {
		t.Fatal("second caller within the minute got a turn")
	}
	if !turn(CatalogClusters) {
		t.Fatal("clusters share the packages' turn")
	}
	ttl, err := s.rdb.PTTL(ctx, s.keys.CatalogRefresh(CatalogPackages)).Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("marker expires in %s, %v", ttl, err)
	}
	now = now.Add(59 * time.Second)
	if turn(CatalogPackages) {
		t.Fatal("turn given after 59 s")
	}
	now = now.Add(time.Second)
	if !turn(CatalogPackages) {
		t.Fatal("no turn after a minute")
	}
	if turn(CatalogPackages) {
		t.Fatal("two turns in the new minute")
	}
	if _, err := s.CatalogRefreshTurn(ctx, CatalogPackages, 0); err == nil {
		t.Error("a zero period was accepted")
	}
	if _, err := s.CatalogRefreshTurn(ctx, "jobs", time.Minute); err == nil {
		t.Error("an unknown kind got a turn")
	}
}
