package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/runjob/runjob/xplenty"
)

// The fake's default catalog, and a few more to make prefixes and
// near-misses interesting.
var (
	testPackages = []xplenty.Package{
		{ID: 434, Name: "orders_daily", Status: xplenty.PackageActive},
		{ID: 435, Name: "orders_backfill", Status: xplenty.PackageActive},
		{ID: 512, Name: "customers_sync", Status: xplenty.PackageActive},
		{ID: 601, Name: "events_hourly", Status: xplenty.PackageActive},
		{ID: 77, Name: "legacy_export", Status: xplenty.PackageArchived},
		{ID: 78, Name: "Orders", Status: xplenty.PackageActive},
		{ID: 90, Name: "legacy", Status: xplenty.PackageArchived},
		{ID: 91, Name: "twin", Status: xplenty.PackageActive},
		{ID: 92, Name: "Twin", Status: xplenty.PackageActive},
	}
	testClusters = []xplenty.Cluster{
		{ID: 52, Name: "prod-etl", Status: xplenty.ClusterAvailable},
		{ID: 53, Name: "prod-etl-large", Status: xplenty.ClusterIdle},
		{ID: 60, Name: "sandbox-dev", Status: xplenty.ClusterAvailable},
		{ID: 48, Name: "old-etl", Status: xplenty.ClusterTerminated},
		{ID: 49, Name: "Creating", Status: xplenty.ClusterCreating},
	}
)

func TestResolvePackage(t *testing.T) {
	for _, c := range []struct {
		query   string
		outcome Outcome
		id      int64
		name    string
		matches []Match
	}{
		// Ids pass through, listed or not.
		{"434", Resolved, 434, "orders_daily", nil},
		{" 77 ", Resolved, 77, "legacy_export", nil},
		{"999", Resolved, 999, "", nil},
		{"0", Unknown, 0, "", nil},
		// Exact names, any case; an exact name wins over being a prefix of others.
		{"orders_daily", Resolved, 434, "orders_daily", nil},
		{"ORDERS_Daily", Resolved, 434, "orders_daily", nil},
		{"orders", Resolved, 78, "Orders", nil},
		// Unique prefixes.
		{"cust", Resolved, 512, "customers_sync", nil},
		{"Events", Resolved, 601, "events_hourly", nil},
		{"orders_b", Resolved, 435, "orders_backfill", nil},
		// Several: the list, by name then id.
		{"orders_", Ambiguous, 0, "", []Match{{435, "orders_backfill"}, {434, "orders_daily"}}},
		{"ord", Ambiguous, 0, "", []Match{{78, "Orders"}, {435, "orders_backfill"}, {434, "orders_daily"}}},
		{"twin", Ambiguous, 0, "", []Match{{91, "twin"}, {92, "Twin"}}},
		// Archived: only by exact name; never by prefix, never suggested.
		{"legacy_export", Resolved, 77, "legacy_export", nil},
		{"LEGACY", Resolved, 90, "legacy", nil},
		{"legacy_", Unknown, 0, "", nil},
		{"legacy_exprt", Unknown, 0, "", nil},
		// None: the closest names, closest first.
		{"orders_dialy", Unknown, 0, "", []Match{{434, "orders_daily"}}},
		{"order_daily", Unknown, 0, "", []Match{{434, "orders_daily"}}},
		{"custmer", Unknown, 0, "", []Match{{512, "customers_sync"}}},
		{"orders_x", Unknown, 0, "", []Match{{435, "orders_backfill"}, {434, "orders_daily"}, {78, "Orders"}}},
		{"zzzzzz", Unknown, 0, "", nil},
		{"", Unknown, 0, "", nil},
	} {
		r := ResolvePackage(testPackages, c.query)
		if r.Outcome != c.outcome || r.ID != c.id || r.Name != c.name || !slices.Equal(r.Matches, c.matches) {
			t.Errorf("ResolvePackage(%q) = %v %d %q %v, want %v %d %q %v", c.query, r.Outcome, r.ID, r.Name, r.Matches, c.outcome, c.id, c.name, c.matches)
		}
		if _, isID := parseID(strings.TrimSpace(c.query)); r.ByID != (isID && c.outcome == Resolved) {
			t.Errorf("ResolvePackage(%q).ByID = %v", c.query, r.ByID)
		}
	}
}

// An archived package and an active one of the same name: the active one.
func TestResolvePackageSameNameArchived(t *testing.T) {
	pkgs := []xplenty.Package{{ID: 1, Name: "load", Status: xplenty.PackageArchived}, {ID: 2, Name: "Load", Status: xplenty.PackageActive}}
	if r := ResolvePackage(pkgs, "LOAD"); r.Outcome != Resolved || r.ID != 2 {
		t.Errorf("= %+v", r)
	}
}

func TestResolveCluster(t *testing.T) {
	for _, c := range []struct {
		query   string
		outcome Outcome
		id      int64
		status  xplenty.ClusterStatus
		usable  bool
		matches []Match
	}{
		{"52", Resolved, 52, xplenty.ClusterAvailable, true, nil},
		{"48", Resolved, 48, xplenty.ClusterTerminated, false, nil},
		{"999", Resolved, 999, "", true, nil}, // not listed: never blocks a run by id
		{"prod-etl", Resolved, 52, xplenty.ClusterAvailable, true, nil},
		{"PROD-ETL-LARGE", Resolved, 53, xplenty.ClusterIdle, true, nil},
		{"sand", Resolved, 60, xplenty.ClusterAvailable, true, nil},
		{"old", Resolved, 48, xplenty.ClusterTerminated, false, nil},
		{"cre", Resolved, 49, xplenty.ClusterCreating, true, nil},
		{"prod", Ambiguous, 0, "", false, []Match{{52, "prod-etl"}, {53, "prod-etl-large"}}},
		{"prod etl", Unknown, 0, "", false, []Match{{52, "prod-etl"}, {53, "prod-etl-large"}}},
		{"sandbox-dve", Unknown, 0, "", false, []Match{{60, "sandbox-dev"}}},
	} {
		r := ResolveCluster(testClusters, c.query)
		if r.Outcome != c.outcome || r.ID != c.id || r.Status != c.status || r.Usable != c.usable || !slices.Equal(r.Matches, c.matches) {
			t.Errorf("ResolveCluster(%q) = %v %d %q usable=%v %v, want %v %d %q %v %v", c.query, r.Outcome, r.ID, r.Status, r.Usable, r.Matches, c.outcome, c.id, c.status, c.usable, c.matches)
		}
	}
}

func TestAvailableClusters(t *testing.T) {
	var names []string
	for _, c := range AvailableClusters(testClusters) {
		names = append(names, c.Name)
	}
	if want := []string{"Creating", "prod-etl", "prod-etl-large", "sandbox-dev"}; !slices.Equal(names, want) {
		t.Errorf("AvailableClusters = %v, want %v", names, want)
	}
	if got := AvailableClusters(nil); len(got) != 0 {
		t.Errorf("AvailableClusters(nil) = %v", got)
	}
}

// A cluster made again under the name of a terminated one (Xplenty keeps
// terminated clusters in its list): the name is the live one's, as an
// archived package's name is the active one's.
func TestResolveClusterSameNameTerminated(t *testing.T) {
	cls := []xplenty.Cluster{
		{ID: 40, Name: "prod-etl", Status: xplenty.ClusterTerminated},
		{ID: 52, Name: "Prod-ETL", Status: xplenty.ClusterAvailable},
		{ID: 41, Name: "twin", Status: xplenty.ClusterTerminated},
		{ID: 42, Name: "twin", Status: xplenty.ClusterTerminated},
	}
	if r := ResolveCluster(cls, "prod-etl"); r.Outcome != Resolved || r.ID != 52 || !r.Usable {
		t.Errorf("prod-etl = %+v, want the available one", r)
	}
	if r := ResolveCluster(cls, "twin"); r.Outcome != Ambiguous || len(r.Matches) != 2 {
		t.Errorf("two terminated twins = %+v, want both listed", r)
	}
}
