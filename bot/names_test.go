package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// The fake Xplenty's catalog: packages 434 orders_daily, 435
// orders_backfill, 512 customers_sync, 601 events_hourly, 77 legacy_export
// (archived); clusters 52 prod-etl (available), 53 prod-etl-large (idle),
// 60 sandbox-dev, 48 old-etl (terminated).

func TestUseCaseRunByNames(t *testing.T) {
	for _, tc := range []struct {
		text           string
		cluster, pkg   int64
		clusterN, pkgN string
	}{
		{"cluster=prod-etl package=orders_daily", 52, 434, "prod-etl", "orders_daily"},
		{`package=ORDERS_DAILY cluster="Prod-ETL"`, 52, 434, "prod-etl", "orders_daily"},
		{"cluster=prod-etl-l package=customers", 53, 512, "prod-etl-large", "customers_sync"},
		{"cluster=52 package=434", 52, 434, "prod-etl", "orders_daily"},
		{"cluster=sandbox package=legacy_export", 60, 77, "sandbox-dev", "legacy_export"},
	} {
		uc := newUseCase(t, useCaseOptions{})
		if got := uc.command(t, "U1", "C1", tc.text+" DATE=2026-11-01"); got != "started" {
			t.Fatalf("%s: outcome = %q, want started; answer %q", tc.text, got, uc.answer("U1"))
		}
		j := uc.onlyJob(t)
		if j.ClusterID != tc.cluster || j.PackageID != tc.pkg || j.Variables["DATE"] != "2026-11-01" {
			t.Errorf("%s: Xplenty ran package %d on cluster %d, want %d on %d", tc.text, j.PackageID, j.ClusterID, tc.pkg, tc.cluster)
		}
		rec, err := uc.store.Get(context.Background(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.ClusterName != tc.clusterN || rec.PackageName != tc.pkgN || !strings.HasPrefix(rec.PackageURL, "http") {
			t.Errorf("%s: record names %q on %q (%q), want %q on %q and the package's page",
				tc.text, rec.PackageName, rec.ClusterName, rec.PackageURL, tc.pkgN, tc.clusterN)
		}
		if c := uc.cards("C1"); len(c) != 1 || !strings.Contains(c[0].Text, tc.pkgN) || !strings.Contains(c[0].Text, tc.clusterN) {
			t.Errorf("%s: card %+v, want the names in its text", tc.text, c)
		}
	}
}

func TestUseCaseNamesThatDoNotResolveStartNothing(t *testing.T) {
	for _, tc := range []struct {
		text string
		has  []string
		not  []string
	}{
		{"cluster=52 package=orders", []string{"`orders` matches 2 packages", "`orders_backfill` (435)", "`orders_daily` (434)"}, nil},
		{"cluster=prod package=434", []string{"matches 2 clusters", "`prod-etl` (52)", "`prod-etl-large` (53)"}, nil},
		{"cluster=52 package=ordrs_daily", []string{"no package called `ordrs_daily`", "Did you mean `orders_daily` (434)", "/runjob packages"}, nil},
		{"cluster=52 package=legacy", []string{"no package called `legacy`"}, []string{"legacy_export"}},
		{"cluster=nowhere package=434", []string{"no cluster called `nowhere`", "/runjob clusters"}, []string{"Did you mean"}},
		{"cluster=old-etl package=434", []string{"Cluster `old-etl` (48) is terminated", "`prod-etl` (52, available)", "`prod-etl-large` (53, idle)"}, nil},
		{"cluster=48 package=434", []string{"Cluster `old-etl` (48) is terminated"}, nil},
		{"cluster=52 package=o&lt;b&gt;&amp;", []string{"no package called `o&lt;b&gt;&amp;`"}, []string{"o<b>"}},
	} {
		uc := newUseCase(t, useCaseOptions{})
		if got := uc.command(t, "U1", "C1", tc.text); got != "invalid" {
			t.Errorf("%s: outcome = %q, want invalid; answer %q", tc.text, got, uc.answer("U1"))
			continue
		}
		a := uc.answer("U1")
		for _, h := range tc.has {
			if !strings.Contains(a, h) {
				t.Errorf("%s: answer %q, want it to hold %q", tc.text, a, h)
			}
		}
		for _, h := range tc.not {
			if strings.Contains(a, h) {
				t.Errorf("%s: answer %q holds %q", tc.text, a, h)
			}
		}
		if n := len(uc.xp.Jobs()); n != 0 || len(uc.cards("C1")) != 0 {
			t.Errorf("%s: %d jobs started, cards %v", tc.text, n, uc.cards("C1"))
		}
	}
}

func TestUseCaseClusterTerminatedSinceTheListIsRefusedOnlyWhenSeen(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	// The cached list still says available: the run goes, and Xplenty
	// decides.
	if err := uc.xp.SetClusterStatus(52, xplenty.ClusterTerminated); err != nil {
		t.Fatal(err)
	}
	if got := uc.command(t, "U1", "C1", "cluster=prod-etl package=434"); got != "started" && got != "refused" {
		t.Fatalf("outcome = %q, want the run asked of Xplenty; answer %q", got, uc.answer("U1"))
	}
}

func TestUseCaseNamesWithoutTheCatalog(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{coldCatalog: true})
	// Another replica holds the refresh turn and Redis has no list: the
	// catalog knows nothing. A name cannot be looked up; an id goes on.
	ctx := context.Background()
	for _, k := range []store.CatalogKind{store.CatalogPackages, store.CatalogClusters} {
		if ok, err := uc.store.CatalogRefreshTurn(ctx, k, time.Minute); err != nil || !ok {
			t.Fatalf("take the refresh turn of %s: %v %v", k, ok, err)
		}
	}
	if got := uc.command(t, "U1", "C1", "cluster=52 package=orders_daily"); got != "error" {
		t.Errorf("by name: outcome = %q, want error", got)
	}
	if a := uc.answer("U1"); !strings.Contains(a, "cannot look up package names") || !strings.Contains(a, "package=434") {
		t.Errorf("by name: answer %q", a)
	}
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434"); got != "started" {
		t.Errorf("by id: outcome = %q, want started; answer %q", got, uc.answer("U1"))
	}
	if n := len(uc.xp.Jobs()); n != 1 {
		t.Errorf("%d jobs, want the one by id", n)
	}
}

func TestUseCasePackagesAndClusters(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	if got := uc.command(t, "U1", "C1", "packages ORDERS"); got != "list" {
		t.Fatalf("outcome = %q, want list", got)
	}
	a := uc.answer("U1")
	if !strings.Contains(a, "2 packages* matching `ORDERS`") || !strings.Contains(a, "orders_daily") || !strings.Contains(a, "(434)") ||
		!strings.Contains(a, "orders_backfill") || strings.Contains(a, "customers_sync") {
		t.Errorf("packages orders: %q", a)
	}
	if strings.Index(a, "orders_backfill") > strings.Index(a, "orders_daily") {
		t.Errorf("packages are not sorted by name: %q", a)
	}
	uc.command(t, "U1", "C1", "packages")
	if a := uc.answer("U1"); !strings.Contains(a, "5 packages*") || strings.Index(a, "legacy_export") < strings.Index(a, "orders_daily") ||
		!strings.Contains(a, "archived") {
		t.Errorf("packages: %q, want 5 with the archived one last", a)
	}
	uc.command(t, "U1", "C1", "clusters")
	a = uc.answer("U1")
	if !strings.Contains(a, "4 clusters*") || !strings.Contains(a, "(52) · available") || !strings.Contains(a, "(48) · terminated") ||
		strings.Index(a, "old-etl") < strings.Index(a, "sandbox-dev") {
		t.Errorf("clusters: %q, want the terminated one last", a)
	}
	uc.command(t, "U1", "C1", "clusters zzz")
	if a := uc.answer("U1"); !strings.Contains(a, "No cluster matching `zzz`") {
		t.Errorf("clusters zzz: %q", a)
	}
	if n := len(uc.slack.Messages()) - len(uc.slack.Ephemerals("U1")); n != 0 {
		t.Errorf("%d messages besides the answers to the person", n)
	}
}

func TestUseCasePackagesListIsCapped(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{coldCatalog: true})
	for i := range 30 {
		if err := uc.xp.AddPackage(xplenty.Package{ID: int64(900 + i), Name: "bulk_" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Status: xplenty.PackageActive}); err != nil {
			t.Fatal(err)
		}
	}
	uc.command(t, "U1", "C1", "packages bulk")
	a := uc.answer("U1")
	if lines := strings.Count(a, "\n• ") + strings.Count(a[:min(2, len(a))], "• "); lines > 20 {
		t.Errorf("%d lines, want at most 20", lines)
	}
	if !strings.Contains(a, "30 packages* matching `bulk`; the first 20") {
		t.Errorf("answer %q", a)
	}
}
