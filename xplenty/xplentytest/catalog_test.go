package xplentytest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
)

func keysOf(t *testing.T, body []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// The answers carry the members the API writes, with its conventions:
// variables always an object, plan_id and unset timestamps null.
func TestCatalogShapes(t *testing.T) {
	s := New(Options{Now: newClock().Now})
	defer s.Close()

	a := call(t, s, "GET", "packages/77", "", "", nil)
	if a.status != 200 {
		t.Fatalf("get package: %d %s", a.status, a.body)
	}
	wantPkg := []string{"created_at", "description", "html_url", "id", "name", "owner_id", "status", "updated_at", "url", "variables"}
	if got := keysOf(t, a.body); !slices.Equal(got, wantPkg) {
		t.Errorf("package members = %v, want %v", got, wantPkg)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(a.body, &raw)
	if string(raw["variables"]) != "{}" || string(raw["status"]) != `"archived"` {
		t.Errorf("package 77 = %s", a.body)
	}

	a = call(t, s, "GET", "clusters/52", "", "", nil)
	wantCluster := []string{"available_since", "created_at", "description", "html_url", "id", "idle_since", "name", "nodes",
		"owner_id", "plan_id", "region", "running_jobs_count", "status", "terminate_on_idle", "terminated_at",
		"terminated_on_idle", "time_to_idle", "type", "updated_at", "url", "zone"}
	if got := keysOf(t, a.body); !slices.Equal(got, wantCluster) {
		t.Errorf("cluster members = %v, want %v", got, wantCluster)
	}
	json.Unmarshal(a.body, &raw)
	if string(raw["plan_id"]) != "null" || string(raw["terminated_at"]) != "null" || string(raw["status"]) != `"available"` {
		t.Errorf("cluster 52 = %s", a.body)
	}

	a = call(t, s, "GET", "packages", "", "", nil)
	var list []json.RawMessage
	if err := json.Unmarshal(a.body, &list); err != nil || len(list) != len(DefaultPackages(time.Now())) {
		t.Errorf("package list: %d %s", a.status, a.body)
	}
}

// New with default options serves the examples' package 434 and cluster
// 52, and a few more; Options.Packages and Clusters replace them.
func TestDefaultCatalog(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	var names []string
	for _, p := range s.Packages() {
		names = append(names, p.Name)
	}
	if !slices.Contains(names, "orders_daily") || len(names) < 3 {
		t.Errorf("default packages = %v", names)
	}
	cs := s.Clusters()
	i := slices.IndexFunc(cs, func(c xplenty.Cluster) bool { return c.ID == 52 })
	if i < 0 || cs[i].Name != "prod-etl" || cs[i].Status != xplenty.ClusterAvailable || len(cs) < 3 {
		t.Errorf("default clusters = %+v", cs)
	}

	empty := New(Options{Packages: []xplenty.Package{}, Clusters: []xplenty.Cluster{}})
	defer empty.Close()
	for _, path := range []string{"packages", "clusters"} {
		if a := call(t, empty, "GET", path, "", "", nil); a.status != 200 || string(a.body) != "[]" {
			t.Errorf("empty %s: %d %s", path, a.status, a.body)
		}
	}
	// The catalog does not limit runs.
	if j := runForm(t, empty, 434); j.ID == 0 {
		t.Error("run refused")
	}
}

func TestCatalogControls(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now, Packages: []xplenty.Package{}, Clusters: []xplenty.Cluster{}})
	defer s.Close()
	if s.AddPackage(xplenty.Package{Name: "no id"}) == nil || s.AddCluster(xplenty.Cluster{ID: -1}) == nil {
		t.Error("an entry without an id was added")
	}
	vars := map[string]string{"A": "1"}
	s.AddPackage(xplenty.Package{ID: 1, Name: "one", Variables: vars})
	vars["A"] = "changed"
	if p := s.Packages(); len(p) != 1 || p[0].Variables["A"] != "1" || p[0].Status != xplenty.PackageActive || p[0].HTMLURL == "" {
		t.Errorf("packages = %+v", p)
	}
	s.AddPackage(xplenty.Package{ID: 1, Name: "uno"})
	if p := s.Packages(); len(p) != 1 || p[0].Name != "uno" {
		t.Errorf("replaced package = %+v", p)
	}

	s.AddCluster(xplenty.Cluster{ID: 52, Name: "prod-etl"})
	if err := s.SetClusterStatus(99, xplenty.ClusterIdle); err == nil {
		t.Error("SetClusterStatus(unknown) succeeded")
	}
	if err := s.SetClusterStatus(52, ""); err == nil {
		t.Error("SetClusterStatus(empty) succeeded")
	}
	clk.Add(time.Minute)
	s.SetClusterStatus(52, xplenty.ClusterTerminating)
	clk.Add(time.Minute)
	s.SetClusterStatus(52, xplenty.ClusterTerminated)
	c := s.Clusters()[0]
	if c.Status != xplenty.ClusterTerminated || c.TerminatedAt == nil || !c.TerminatedAt.Equal(clk.Now()) || !c.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("terminated cluster = %+v", c)
	}

	// Jobs that have not finished count as running on their cluster.
	j := runForm(t, s, 7)
	if c := s.Clusters()[0]; c.RunningJobsCount != 1 {
		t.Errorf("running jobs = %d, want 1", c.RunningJobsCount)
	}
	s.SetStatus(j.ID, xplenty.StatusCompleted)
	if c := s.Clusters()[0]; c.RunningJobsCount != 0 {
		t.Errorf("running jobs after completion = %d, want 0", c.RunningJobsCount)
	}
}

func TestCatalogQueryChecks(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	for _, path := range []string{
		"packages?status=deleted", "packages?sort=name", "packages?direction=up", "packages?since=yesterday",
		"packages?limit=0", "packages?limit=101", "packages?offset=-1",
		"clusters?status=resizing", "clusters?sort=nodes",
		"packages/search", "packages/search?q=%20", "packages/search?q=x&sort=updated",
	} {
		if a := call(t, s, "GET", path, "", "", nil); a.status != 400 {
			t.Errorf("GET %s: %d %s, want 400", path, a.status, a.body)
		}
	}
	for _, path := range []string{"packages/0", "packages/abc", "packages/434/flow", "clusters/999", "clusters/52/instances"} {
		if a := call(t, s, "GET", path, "", "", nil); a.status != 404 || a.message() != "Item not found." {
			t.Errorf("GET %s: %d %s, want 404", path, a.status, a.body)
		}
	}
	for _, path := range []string{"packages", "clusters/52"} {
		if a := call(t, s, "DELETE", path, "", "", nil); a.status != 405 {
			t.Errorf("DELETE %s: %d, want 405", path, a.status)
		}
	}
}

func TestCatalogListAndSearch(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	ids := func(a answer) []int64 {
		t.Helper()
		var items []struct{ ID int64 }
		if err := json.Unmarshal(a.body, &items); err != nil {
			t.Fatalf("%d %s", a.status, a.body)
		}
		var out []int64
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	if got := ids(call(t, s, "GET", "packages?status=archived", "", "", nil)); !slices.Equal(got, []int64{77}) {
		t.Errorf("archived = %v", got)
	}
	// Default order: newest first.
	if got := ids(call(t, s, "GET", "packages?status=active", "", "", nil)); !slices.Equal(got, []int64{601, 512, 435, 434}) {
		t.Errorf("active = %v", got)
	}
	if got := ids(call(t, s, "GET", "packages?sort=updated&direction=asc&since=2026-10-20T09:00:00Z", "", "", nil)); !slices.Equal(got, []int64{512, 434, 601}) {
		t.Errorf("updated since = %v", got)
	}
	a := call(t, s, "GET", "clusters?limit=2", "", "", nil)
	if got := ids(a); len(got) != 2 || a.header.Get("Link") == "" {
		t.Errorf("clusters page: %v, Link %q", got, a.header.Get("Link"))
	}
	if got := ids(call(t, s, "GET", "clusters?status=available&sort=created&direction=asc", "", "", nil)); !slices.Equal(got, []int64{52, 60}) {
		t.Errorf("available = %v", got)
	}

	for q, want := range map[string][]int64{
		"orders_daily":               {434},
		"ORDERS":                     {434, 435}, // equally good: by id
		"warehouse":                  {434, 512},
		"orders orders_backfill":     {435, 434}, // an exact name first
		"customers_sync":             {512, 77},  // then a description
		"name:orders -name:backfill": {434},
		"id:512":                     {512},
		`name:"orders_daily" daily`:  {434},
		"nothing-like-it":            nil,
		"user:someone":               {77, 434, 435, 512, 601}, // not modelled: all, by id
	} {
		a := call(t, s, "GET", "packages/search?q="+url.QueryEscape(q), "", "", nil)
		if got := ids(a); !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", q, got, want)
		}
	}
	if got := ids(call(t, s, "GET", "packages/search?q=orders&sort=created&direction=asc", "", "", nil)); !slices.Equal(got, []int64{434, 435}) {
		t.Errorf("search by created = %v", got)
	}

	// Every catalog call is recorded and spends the budget.
	s.ResetRequests()
	before := s.Remaining()
	call(t, s, "GET", "clusters/52", "", "", nil)
	call(t, s, "GET", "packages/search?q=x", "", "", nil)
	if n := s.RequestCount(); n != 2 || s.Remaining() != before-2 {
		t.Errorf("requests = %d, remaining %d (was %d)", n, s.Remaining(), before)
	}
	if r := s.Requests()[1]; r.Path != "/acme/api/packages/search" || r.Query.Get("q") != "x" {
		t.Errorf("recorded %s %v", r.Path, r.Query)
	}
	s.SetBudget(0)
	if a := call(t, s, "GET", "packages", "", "", nil); a.status != http.StatusTooManyRequests {
		t.Errorf("over budget: %d", a.status)
	}
}
