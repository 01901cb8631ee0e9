package xplenty

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Fixtures written for these tests in the shapes the API documents: a
// package as listed (variables an object, html_url, status) and as fetched
// (with fields the client does not model), a cluster with every documented
// field, nulls included, and one as a young cluster reports itself.
const (
	packageListFixture = `[
  {
    "id": 434,
    "name": "orders_daily",
    "description": "Loads yesterday's orders",
    "variables": {"DATE": "'2026-11-01'", "BATCH": 500, "DRY_RUN": false, "NOTE": null},
    "owner_id": 7,
    "created_at": "2026-03-12T07:09:18Z",
    "updated_at": "2026-04-13T19:38:04+03:00",
    "url": "https://api.example.test/acme/api/packages/434",
    "html_url": "https://example.test/acme/packages/434",
    "status": "active"
  },
  {
    "id": 77,
    "name": "legacy_export",
    "description": "",
    "variables": {},
    "owner_id": 7,
    "created_at": "2025-01-02T03:04:05Z",
    "updated_at": "2025-06-07T08:09:10Z",
    "url": "https://api.example.test/acme/api/packages/77",
    "html_url": "https://example.test/acme/packages/77",
    "status": "archived"
  }
]`
	packageGetFixture = `{
  "id": 434,
  "name": "orders_daily",
  "description": "Loads yesterday's orders",
  "variables": {"DATE": "'2026-11-01'"},
  "owner_id": 7,
  "created_at": "2026-03-12T07:09:18Z",
  "updated_at": "2026-04-13T19:38:04Z",
  "url": "https://api.example.test/acme/api/packages/434",
  "html_url": "https://example.test/acme/packages/434",
  "version": 12,
  "flow_type": "dataflow",
  "flow_version": "2.0.0",
  "package_version": "1.0",
  "item_id": 434,
  "status": "active"
}`
	clusterFixture = `{
  "id": 52,
  "name": "prod-etl",
  "description": "Production ETL",
  "status": "available",
  "owner_id": 7,
  "plan_id": null,
  "nodes": 4,
  "type": "production",
  "created_at": "2026-10-01T08:18:39Z",
  "updated_at": "2026-10-28T16:45:24Z",
  "available_since": "2026-10-01T08:25:22Z",
  "terminated_at": null,
  "running_jobs_count": 2,
  "terminate_on_idle": true,
  "time_to_idle": 3600,
  "terminated_on_idle": false,
  "region": "amazon-web-services::us-east-1",
  "zone": "us-east-1b",
  "master_instance_type": "m5.xlarge",
  "slave_instance_type": "m5.xlarge",
  "master_spot_price": null,
  "slave_spot_percentage": null,
  "allow_fallback": true,
  "stack": "blue-ridge",
  "idle_since": null,
  "url": "https://api.example.test/acme/api/clusters/52",
  "html_url": "https://example.test/acme/clusters/52",
  "bootstrap_actions": [{"script_path": "s3://acme/boot.sh", "args": ["a"]}],
  "creator": {"type": "Schedule", "display_name": "Nightly", "id": 3, "url": "https://api.example.test/acme/api/schedules/3", "html_url": "https://example.test/acme/schedules/3"}
}`
	youngClusterFixture = `{"id":6001,"name":"tiny","description":"x","status":"pending","owner_id":9,"plan_id":null,"nodes":1,"type":"sandbox","created_at":"2026-06-24T10:16:29Z","updated_at":"2026-06-24T10:16:29Z","available_since":null,"terminated_at":null,"launched_at":null,"terminate_on_idle":false,"time_to_idle":200,"terminated_on_idle":false,"running_jobs_count":0,"url":"https://api.example.test/acme/api/clusters/6001"}`
)

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestDecodePackages(t *testing.T) {
	var ps []Package
	if err := json.Unmarshal([]byte(packageListFixture), &ps); err != nil {
		t.Fatal(err)
	}
	want := Package{
		ID: 434, Name: "orders_daily", Description: "Loads yesterday's orders",
		Variables: map[string]string{"DATE": "'2026-11-01'", "BATCH": "500", "DRY_RUN": "false", "NOTE": ""},
		OwnerID:   7, Status: PackageActive,
		CreatedAt: at("2026-03-12T07:09:18Z"), UpdatedAt: at("2026-04-13T19:38:04+03:00"),
		URL: "https://api.example.test/acme/api/packages/434", HTMLURL: "https://example.test/acme/packages/434",
	}
	if len(ps) != 2 || !reflect.DeepEqual(ps[0], want) {
		t.Fatalf("packages = %+v\nwant first %+v", ps, want)
	}
	if ps[1].Status != PackageArchived || len(ps[1].Variables) != 0 {
		t.Errorf("second = %+v", ps[1])
	}
	if got := ps[0].VariableNames(); !reflect.DeepEqual(got, []string{"BATCH", "DATE", "DRY_RUN", "NOTE"}) {
		t.Errorf("VariableNames = %v", got)
	}

	var p Package
	if err := json.Unmarshal([]byte(packageGetFixture), &p); err != nil {
		t.Fatal(err)
	}
	if p.ID != 434 || p.Variables["DATE"] != "'2026-11-01'" || p.HTMLURL == "" || p.Status != PackageActive {
		t.Errorf("get package = %+v", p)
	}
}

func TestDecodeClusters(t *testing.T) {
	var c Cluster
	if err := json.Unmarshal([]byte(clusterFixture), &c); err != nil {
		t.Fatal(err)
	}
	want := Cluster{
		ID: 52, Name: "prod-etl", Description: "Production ETL", Status: ClusterAvailable, Type: "production",
		Nodes: 4, RunningJobsCount: 2, OwnerID: 7, Region: "amazon-web-services::us-east-1", Zone: "us-east-1b",
		TerminateOnIdle: true, TimeToIdle: 3600,
		CreatedAt: at("2026-10-01T08:18:39Z"), UpdatedAt: at("2026-10-28T16:45:24Z"), AvailableSince: at("2026-10-01T08:25:22Z"),
		URL: "https://api.example.test/acme/api/clusters/52", HTMLURL: "https://example.test/acme/clusters/52",
		Creator: &Creator{Type: "Schedule", ID: 3, DisplayName: "Nightly", URL: "https://api.example.test/acme/api/schedules/3", HTMLURL: "https://example.test/acme/schedules/3"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("cluster = %+v\nwant      %+v", c, want)
	}
	var young Cluster
	if err := json.Unmarshal([]byte(youngClusterFixture), &young); err != nil {
		t.Fatal(err)
	}
	if young.ID != 6001 || young.Status != ClusterPending || young.AvailableSince != nil || young.HTMLURL != "" || young.Type != "sandbox" {
		t.Errorf("young cluster = %+v", young)
	}
}

// What encoding/json writes for a Package or a Cluster reads back the same:
// a catalog can be stored and read again.
func TestCatalogRoundTrip(t *testing.T) {
	var ps []Package
	var c Cluster
	json.Unmarshal([]byte(packageListFixture), &ps)
	json.Unmarshal([]byte(clusterFixture), &c)
	if len(ps) == 0 {
		t.Fatal("fixture did not decode")
	}
	p, empty := ps[0], ps[1]
	for _, v := range []struct{ in, out any }{{&p, &Package{}}, {&empty, &Package{}}, {&c, &Cluster{}}} {
		b, err := json.Marshal(v.in)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v.out); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v.in, v.out) {
			t.Errorf("round trip:\n got %+v\nwant %+v", v.out, v.in)
		}
	}
	if p.ID != 434 || c.ID != 52 {
		t.Fatalf("fixtures did not decode: %d %d", p.ID, c.ID)
	}
}

// A member of the wrong type costs only that member.
func TestCatalogDecodingIsLenient(t *testing.T) {
	var p Package
	err := json.Unmarshal([]byte(`{"id": "434", "name": 42, "description": ["x"], "variables": "oops",
		"owner_id": "seven", "status": null, "created_at": "yesterday", "updated_at": 1767225600,
		"url": {"a": 1}, "html_url": "https://example.test/acme/packages/434"}`), &p)
	if err != nil {
		t.Fatalf("lenient package: %v", err)
	}
	want := Package{ID: 434, Name: "42", HTMLURL: "https://example.test/acme/packages/434", UpdatedAt: at("2026-01-01T00:00:00Z")}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("package = %+v\nwant      %+v", p, want)
	}

	var c Cluster
	err = json.Unmarshal([]byte(`{"id": 52, "name": "prod-etl", "status": "available", "nodes": "many",
		"running_jobs_count": "3", "terminate_on_idle": "true", "time_to_idle": 1.5e3, "plan_id": "gold",
		"creator": "Schedule", "available_since": false, "type": 1}`), &c)
	if err != nil {
		t.Fatalf("lenient cluster: %v", err)
	}
	if c.ID != 52 || c.Name != "prod-etl" || c.Nodes != 0 || c.RunningJobsCount != 3 || !c.TerminateOnIdle ||
		c.TimeToIdle != 1500 || c.PlanID != 0 || c.Creator != nil || c.AvailableSince != nil || c.Type != "1" {
		t.Errorf("cluster = %+v", c)
	}

	// The id is the one member that must be readable.
	if err := json.Unmarshal([]byte(`{"id": "abc", "name": "x"}`), &p); err == nil {
		t.Error("a package with id \"abc\" decoded")
	}
	if err := json.Unmarshal([]byte(`[1]`), &c); err == nil {
		t.Error("a list decoded as a cluster")
	}
}

func TestClusterStatusUsable(t *testing.T) {
	for st, want := range map[ClusterStatus]bool{
		ClusterPending: true, ClusterCreating: true, ClusterAvailable: true, ClusterIdle: true,
		ClusterError: false, ClusterPendingTerminate: false, ClusterTerminating: false, ClusterTerminated: false,
		"resizing": true, // unknown: not refused
	} {
		if got := st.Usable(); got != want {
			t.Errorf("%q.Usable() = %v, want %v", st, got, want)
		}
		if st != "resizing" && !st.Known() {
			t.Errorf("%q not Known", st)
		}
	}
	if ClusterStatus("resizing").Known() {
		t.Error("resizing is Known")
	}
}

// Items of a page without a usable id, or that are not objects, are left
// out and reported; the rest of the page is kept.
func TestCatalogPagesSkipUndecodableItems(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	mux.HandleFunc("/prefix/acme/api/packages", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[{"id": 1, "name": "a"}, {"name": "no id", "variables": {"PASSWORD": "hunter2"}},
			{"id": "x1", "name": "bad id"}, 42, {"id": 0}, {"id": 5, "name": 5}]`)
	})
	mux.HandleFunc("/prefix/acme/api/clusters", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[null, {"id": 52, "status": "idle"}]`)
	})
	page, err := c.ListPackages(context.Background(), PackageListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].ID != 1 || page.Items[1].ID != 5 || page.Items[1].Name != "5" {
		t.Errorf("items = %+v", page.Items)
	}
	var idx []int
	for _, u := range page.Undecodable {
		idx = append(idx, u.Index)
		if u.Err == nil || strings.Contains(u.Err.Error(), "hunter2") {
			t.Errorf("undecodable %d: %v", u.Index, u.Err)
		}
	}
	if !reflect.DeepEqual(idx, []int{1, 2, 3, 4}) {
		t.Errorf("undecodable at %v, want 1 2 3 4", idx)
	}
	cp, err := c.ListClusters(context.Background(), ClusterListOptions{})
	if err != nil || len(cp.Items) != 1 || cp.Items[0].Status != ClusterIdle || len(cp.Undecodable) != 1 {
		t.Errorf("clusters = %+v, %v", cp, err)
	}
}

// The options become the documented query parameters; invalid ones are
// refused before any call.
func TestCatalogQueries(t *testing.T) {
	var calls atomic.Int32
	queries := make(chan string, 10)
	c, mux, _ := newTestClient(t, Config{})
	for _, p := range []string{"packages", "packages/search", "clusters"} {
		mux.HandleFunc("/prefix/acme/api/"+p, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			queries <- r.URL.Path + "?" + r.URL.RawQuery
			writeJSON(w, 200, `[]`)
		})
	}
	ctx := context.Background()
	since := time.Date(2026, 11, 1, 9, 30, 15, 500, time.FixedZone("x", 3600))
	if _, err := c.ListPackages(ctx, PackageListOptions{Status: PackageActive, Sort: "updated", Direction: "asc", Since: since, Offset: 20, Limit: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SearchPackages(ctx, ` orders "daily load" `, PackageSearchOptions{Sort: "modified", Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListClusters(ctx, ClusterListOptions{Status: ClusterAvailable, Sort: "created", Direction: "desc"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListPackages(ctx, PackageListOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/prefix/acme/api/packages?direction=asc&limit=100&offset=20&since=2026-11-01T08%3A30%3A15Z&sort=updated&status=active",
		"/prefix/acme/api/packages/search?limit=5&q=orders+%22daily+load%22&sort=modified",
		"/prefix/acme/api/clusters?direction=desc&sort=created&status=available",
		"/prefix/acme/api/packages?",
	}
	for _, w := range want {
		if got := <-queries; got != w {
			t.Errorf("request %s\n    want %s", got, w)
		}
	}

	for name, f := range map[string]func() error{
		"sort":       func() error { _, err := c.ListPackages(ctx, PackageListOptions{Sort: "name"}); return err },
		"limit":      func() error { _, err := c.ListClusters(ctx, ClusterListOptions{Limit: 101}); return err },
		"offset":     func() error { _, err := c.ListClusters(ctx, ClusterListOptions{Offset: -1}); return err },
		"direction":  func() error { _, err := c.ListClusters(ctx, ClusterListOptions{Direction: "up"}); return err },
		"blank q":    func() error { _, err := c.SearchPackages(ctx, "  ", PackageSearchOptions{}); return err },
		"search by":  func() error { _, err := c.SearchPackages(ctx, "x", PackageSearchOptions{Sort: "updated"}); return err },
		"package id": func() error { _, err := c.GetPackage(ctx, 0); return err },
		"cluster id": func() error { _, err := c.GetCluster(ctx, -3); return err },
		"max pages":  func() error { _, _, err := c.ListAllClusters(ctx, ClusterListOptions{}, 0); return err },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("calls = %d, want 4 (invalid requests cost none)", n)
	}
}

// GetPackage and GetCluster: the route reported for metrics, an answer
// without an id is undecodable, a 404 is not found.
func TestGetPackageAndCluster(t *testing.T) {
	var routes []string
	c, mux, _ := newTestClient(t, Config{OnResponse: func(method, route string, status int, d time.Duration) {
		routes = append(routes, method+" "+route)
	}})
	mux.HandleFunc("/prefix/acme/api/packages/434", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, packageGetFixture)
	})
	mux.HandleFunc("/prefix/acme/api/packages/435", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"name": "no id"}`)
	})
	mux.HandleFunc("/prefix/acme/api/clusters/52", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, clusterFixture)
	})
	mux.HandleFunc("/prefix/acme/api/clusters/53", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"message": "Item not found."}`)
	})
	ctx := context.Background()
	if p, err := c.GetPackage(ctx, 434); err != nil || p.Name != "orders_daily" {
		t.Errorf("GetPackage = %+v, %v", p, err)
	}
	if _, err := c.GetPackage(ctx, 435); !IsUndecodable(err) || IsOutcomeUnknown(err) {
		t.Errorf("GetPackage(no id) = %v, want undecodable", err)
	}
	if cl, err := c.GetCluster(ctx, 52); err != nil || cl.Status != ClusterAvailable || !cl.Status.Usable() {
		t.Errorf("GetCluster = %+v, %v", cl, err)
	}
	if _, err := c.GetCluster(ctx, 53); !IsNotFound(err) {
		t.Errorf("GetCluster(53) = %v, want not found", err)
	}
	want := []string{"GET /packages/{id}", "GET /packages/{id}", "GET /clusters/{id}", "GET /clusters/{id}"}
	if !reflect.DeepEqual(routes, want) {
		t.Errorf("routes = %v, want %v", routes, want)
	}
}
