package xplenty_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The catalog calls against the fake: each endpoint, the query parameters
// it receives, paging, and the errors.

func TestEndToEndCatalogDefaults(t *testing.T) {
	ctx := context.Background()
	c, s := setup(t, xplentytest.Options{}, xplenty.Config{})

	p, err := c.GetPackage(ctx, 434)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "orders_daily" || p.Status != xplenty.PackageActive || p.Variables["DATE"] == "" ||
		p.HTMLURL != s.URL()+"acme/packages/434" || p.URL != s.URL()+"acme/api/packages/434" || p.CreatedAt == nil {
		t.Errorf("package 434 = %+v", p)
	}
	cl, err := c.GetCluster(ctx, 52)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Name != "prod-etl" || cl.Status != xplenty.ClusterAvailable || !cl.Status.Usable() || cl.Type != "production" ||
		cl.HTMLURL != s.URL()+"acme/clusters/52" || cl.AvailableSince == nil {
		t.Errorf("cluster 52 = %+v", cl)
	}
	all, truncated, err := c.ListAllClusters(ctx, xplenty.ClusterListOptions{}, 5)
	if err != nil || truncated {
		t.Fatal(err, truncated)
	}
	var unusable []string
	for _, cl := range all {
		if !cl.Status.Usable() {
			unusable = append(unusable, cl.Name)
		}
	}
	if len(all) < 3 || !slices.Equal(unusable, []string{"old-etl"}) {
		t.Errorf("clusters = %+v", all)
	}
}

func TestEndToEndCatalogCalls(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	c, s := setup(t, xplentytest.Options{Now: clk.Now, Packages: []xplenty.Package{}, Clusters: []xplenty.Cluster{}}, xplenty.Config{})

	for i := range 25 {
		s.AddPackage(xplenty.Package{ID: int64(100 + i), Name: "pkg_" + string(rune('a'+i)), Variables: map[string]string{"N": "1"}})
		clk.Add(time.Minute)
	}
	s.AddPackage(xplenty.Package{ID: 434, Name: "orders_daily", Description: "Loads orders"})
	s.AddPackage(xplenty.Package{ID: 435, Name: "orders_backfill"})
	s.AddPackage(xplenty.Package{ID: 9, Name: "old", Description: "orders, the old way", Status: xplenty.PackageArchived})
	s.AddCluster(xplenty.Cluster{ID: 52, Name: "prod-etl"})
	s.AddCluster(xplenty.Cluster{ID: 48, Name: "old-etl", Status: xplenty.ClusterTerminated})

	// Paging follows the Link header.
	s.ResetRequests()
	page, err := c.ListPackages(ctx, xplenty.PackageListOptions{Status: xplenty.PackageActive, Sort: "created", Direction: "asc", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 10 || page.Items[0].ID != 100 || page.NextURL == "" {
		t.Fatalf("first page: %d items, first %+v, next %q", len(page.Items), page.Items[0], page.NextURL)
	}
	got, truncated, err := c.ListAllPackages(ctx, xplenty.PackageListOptions{Status: "all", Limit: 10}, 10)
	if err != nil || truncated || len(got) != 28 {
		t.Errorf("ListAllPackages = %d, %v, %v; want 28", len(got), truncated, err)
	}
	reqs := s.Requests()
	if q := reqs[0].Query; q.Get("status") != "active" || q.Get("sort") != "created" || q.Get("direction") != "asc" || q.Get("limit") != "10" {
		t.Errorf("list query = %v", q)
	}
	if n := len(reqs); n != 4 {
		t.Errorf("requests = %d, want 4 (1 page, then 3)", n)
	}
	next, err := c.NextPackages(ctx, page)
	if err != nil || len(next.Items) != 10 || next.Items[0].ID != 110 {
		t.Errorf("NextPackages = %+v, %v", next, err)
	}

	// since= keeps what changed at or after it.
	clk.Add(time.Hour)
	s.SetClusterStatus(52, xplenty.ClusterIdle)
	cp, err := c.ListClusters(ctx, xplenty.ClusterListOptions{Since: clk.Now()})
	if err != nil || len(cp.Items) != 1 || cp.Items[0].ID != 52 || cp.Items[0].Status != xplenty.ClusterIdle || cp.Items[0].IdleSince == nil {
		t.Errorf("clusters since = %+v, %v", cp, err)
	}
	cp, err = c.ListClusters(ctx, xplenty.ClusterListOptions{Status: xplenty.ClusterTerminated})
	if err != nil || len(cp.Items) != 1 || cp.Items[0].ID != 48 || cp.Items[0].TerminatedAt == nil {
		t.Errorf("terminated clusters = %+v, %v", cp, err)
	}

	// Search: best match first, the query sent as q=.
	s.ResetRequests()
	found, err := c.SearchPackages(ctx, "orders", xplenty.PackageSearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range found.Items {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"orders_backfill", "orders_daily", "old"}) && !slices.Equal(names, []string{"orders_daily", "orders_backfill", "old"}) {
		t.Errorf("search orders = %v", names)
	}
	if q := s.Requests()[0]; q.Path != "/xplenty/v2/acme/api/packages/search" || q.Query.Get("q") != "orders" {
		t.Errorf("search request = %s %v", q.Path, q.Query)
	}
	found, err = c.SearchPackages(ctx, `name:"orders_daily"`, xplenty.PackageSearchOptions{Sort: "created"})
	if err != nil || len(found.Items) != 1 || found.Items[0].ID != 434 {
		t.Errorf("search name: = %+v, %v", found, err)
	}

	// Running jobs count on their cluster.
	if _, err := c.RunJob(ctx, xplenty.RunRequest{ClusterID: 52, PackageID: 434}); err != nil {
		t.Fatal(err)
	}
	if cl, err := c.GetCluster(ctx, 52); err != nil || cl.RunningJobsCount != 1 {
		t.Errorf("cluster after a run = %+v, %v", cl, err)
	}
}

func TestEndToEndCatalogErrors(t *testing.T) {
	ctx := context.Background()
	var routes []string
	c, s := setup(t, xplentytest.Options{}, xplenty.Config{OnResponse: func(method, route string, status int, d time.Duration) {
		routes = append(routes, route)
	}})

	if _, err := c.GetPackage(ctx, 999); !xplenty.IsNotFound(err) {
		t.Errorf("GetPackage(999) = %v, want not found", err)
	}
	if _, err := c.GetCluster(ctx, 999); !xplenty.IsNotFound(err) {
		t.Errorf("GetCluster(999) = %v, want not found", err)
	}
	if !s.RemovePackage(434) {
		t.Error("RemovePackage(434) found nothing")
	}
	if _, err := c.GetPackage(ctx, 434); !xplenty.IsNotFound(err) {
		t.Errorf("GetPackage(removed) = %v, want not found", err)
	}

	// 429 at once, never retried (see Client): one request.
	s.SetBudget(0)
	s.ResetRequests()
	for name, f := range map[string]func() error{
		"list packages":   func() error { _, err := c.ListPackages(ctx, xplenty.PackageListOptions{}); return err },
		"search packages": func() error { _, err := c.SearchPackages(ctx, "x", xplenty.PackageSearchOptions{}); return err },
		"get package":     func() error { _, err := c.GetPackage(ctx, 435); return err },
		"list clusters":   func() error { _, err := c.ListClusters(ctx, xplenty.ClusterListOptions{}); return err },
		"get cluster":     func() error { _, err := c.GetCluster(ctx, 52); return err },
	} {
		if err := f(); !xplenty.IsRateLimited(err) {
			t.Errorf("%s over budget: %v, want rate limited", name, err)
		}
	}
	if n := s.RequestCount(); n != 5 {
		t.Errorf("requests over budget = %d, want 5 (no retry)", n)
	}

	// A 5xx is retried like every read.
	s.SetBudget(5000)
	s.FailNext(2, http.StatusBadGateway, "")
	s.ResetRequests()
	if cl, err := c.GetCluster(ctx, 52); err != nil || cl.ID != 52 {
		t.Errorf("GetCluster through two 502s = %+v, %v", cl, err)
	}
	if n := s.RequestCount(); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
	want := map[string]bool{"/packages": true, "/packages/search": true, "/packages/{id}": true, "/clusters": true, "/clusters/{id}": true}
	for _, r := range routes {
		if !want[r] {
			t.Errorf("route %q reported", r)
		}
	}
}
