package xplentytest

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// Serving the catalog: lists with status, sort, direction, since and
// offset paging (a Link header like the job list), the package search, and
// get by id, in the shapes the API writes.

// routeCatalog serves the paths under packages and clusters; segs[0] is
// one of them.
func (s *Server) routeCatalog(r *http.Request, segs []string, now time.Time) *response {
	if r.Method != http.MethodGet {
		return errorAnswer(http.StatusMethodNotAllowed, "Method not allowed")
	}
	packages := segs[0] == "packages"
	switch {
	case len(segs) == 1 && packages:
		return s.listPackages(r, now)
	case len(segs) == 1:
		return s.listClusters(r, now)
	case len(segs) == 2 && packages && segs[1] == "search":
		return s.searchPackages(r)
	case len(segs) > 2:
		return errorAnswer(http.StatusNotFound, "Item not found.")
	}
	id, err := strconv.ParseInt(segs[1], 10, 64)
	if err != nil {
		return errorAnswer(http.StatusNotFound, "Item not found.")
	}
	if packages {
		if p := s.packages[id]; p != nil {
			return &response{status: http.StatusOK, body: wirePackageOf(p)}
		}
		return errorAnswer(http.StatusNotFound, "Item not found.")
	}
	if c := s.clusters[id]; c != nil {
		return &response{status: http.StatusOK, body: wireClusterOf(c, s.runningByCluster(now)[id])}
	}
	return errorAnswer(http.StatusNotFound, "Item not found.")
}

// listPackages serves GET packages?status=&sort=&direction=&since=&offset=&limit=.
func (s *Server) listPackages(r *http.Request, now time.Time) *response {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && status != "all" && status != string(xplenty.PackageActive) && status != string(xplenty.PackageArchived) {
		return errorAnswer(http.StatusBadRequest, "Invalid status: %q", status)
	}
	o, res := parseOrder(q, "created", "updated")
	if res != nil {
		return res
	}
	matched := []*xplenty.Package{}
	for _, p := range s.sortedPackages() {
		if (status == "" || status == "all" || string(p.Status) == status) && !o.excludes(p.UpdatedAt) {
			matched = append(matched, p)
		}
	}
	sortItems(o, matched, func(p *xplenty.Package) (*time.Time, *time.Time) { return p.CreatedAt, p.UpdatedAt })
	return pageOf(r, q, matched, wirePackageOf)
}

// listClusters serves GET clusters?status=&sort=&direction=&since=&offset=&limit=.
func (s *Server) listClusters(r *http.Request, now time.Time) *response {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && status != "all" && !xplenty.ClusterStatus(status).Known() {
		return errorAnswer(http.StatusBadRequest, "Invalid status: %q", status)
	}
	o, res := parseOrder(q, "created", "updated")
	if res != nil {
		return res
	}
	matched := []*xplenty.Cluster{}
	for _, c := range s.sortedClusters() {
		if (status == "" || status == "all" || string(c.Status) == status) && !o.excludes(c.UpdatedAt) {
			matched = append(matched, c)
		}
	}
	sortItems(o, matched, func(c *xplenty.Cluster) (*time.Time, *time.Time) { return c.CreatedAt, c.UpdatedAt })
	running := s.runningByCluster(now)
	return pageOf(r, q, matched, func(c *xplenty.Cluster) wireCluster { return wireClusterOf(c, running[c.ID]) })
}

// searchPackages serves GET packages/search?q=&sort=&direction=: see
// searchQuery for what q understands. Without a sort, the best matches come
// first: an exact name, then a name that starts with a word, then a name
// that holds one, then a description that does.
func (s *Server) searchPackages(r *http.Request) *response {
	q := r.URL.Query()
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		return errorAnswer(http.StatusBadRequest, "Missing parameter: q")
	}
	// parseOrder knows created and updated: modified is updated, and
	// relevance (the default) is checked apart.
	relevance := cmp.Or(q.Get("sort"), "relevance") == "relevance"
	oq := url.Values{"direction": q["direction"]}
	switch v := q.Get("sort"); v {
	case "", "relevance":
	case "created":
		oq.Set("sort", v)
	case "modified":
		oq.Set("sort", "updated")
	default:
		return errorAnswer(http.StatusBadRequest, "Invalid sort: %q (relevance, created or modified)", v)
	}
	o, res := parseOrder(oq, "created", "updated")
	if res != nil {
		return res
	}
	sq := parseSearch(text)
	type hit struct {
		p    *xplenty.Package
		rank int
	}
	var hits []hit
	for _, p := range s.sortedPackages() {
		if rank, ok := sq.match(p); ok {
			hits = append(hits, hit{p, rank})
		}
	}
	matched := make([]*xplenty.Package, 0, len(hits))
	if relevance {
		slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(a.rank, b.rank) })
		if o.direction == "asc" {
			slices.Reverse(hits)
		}
	}
	for _, h := range hits {
		matched = append(matched, h.p)
	}
	if !relevance {
		sortItems(o, matched, func(p *xplenty.Package) (*time.Time, *time.Time) { return p.CreatedAt, p.UpdatedAt })
	}
	return pageOf(r, url.Values{"offset": q["offset"], "limit": q["limit"]}, matched, wirePackageOf)
}

// order is a list's sort, direction and since filter.
type order struct {
	sortBy, direction string
	since             time.Time // zero: no filter
}

func parseOrder(q url.Values, sorts ...string) (order, *response) {
	o := order{sortBy: cmp.Or(q.Get("sort"), sorts[0]), direction: cmp.Or(q.Get("direction"), "desc")}
	if !slices.Contains(sorts, o.sortBy) {
		return o, errorAnswer(http.StatusBadRequest, "Invalid sort: %q (%s)", o.sortBy, strings.Join(sorts, " or "))
	}
	if o.direction != "asc" && o.direction != "desc" {
		return o, errorAnswer(http.StatusBadRequest, "Invalid direction: %q (asc or desc)", o.direction)
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, strings.ReplaceAll(v, " ", "+"))
		if err != nil {
			return o, errorAnswer(http.StatusBadRequest, "Invalid since: %q (ISO 8601, e.g. 2026-01-02T15:04:05Z)", v)
		}
		o.since = seconds(t)
	}
	return o, nil
}

// excludes reports whether since= leaves out an item updated at updated
// (inclusive, to the second).
func (o order) excludes(updated *time.Time) bool {
	return !o.since.IsZero() && (updated == nil || seconds(*updated).Before(o.since))
}

// sortItems orders items (by id on entry) by created or updated time, whole
// seconds, ties by id, in the order's direction.
func sortItems[T any](o order, items []T, times func(T) (created, updated *time.Time)) {
	at := func(it T) time.Time {
		c, u := times(it)
		t := c
		if o.sortBy == "updated" {
			t = u
		}
		if t == nil {
			return time.Time{}
		}
		return seconds(*t)
	}
	slices.SortStableFunc(items, func(a, b T) int { return at(a).Compare(at(b)) })
	if o.direction == "desc" {
		slices.Reverse(items)
	}
}

// pageOf answers one page of items (offset and limit from q, 20 by
// default, at most 100), with a Link header to the next page.
func pageOf[T, W any](r *http.Request, q url.Values, items []T, wire func(T) W) *response {
	offset, limit := 0, defaultListLimit
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errorAnswer(http.StatusBadRequest, "Invalid offset: %q", v)
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return errorAnswer(http.StatusBadRequest, "Invalid limit: %q (1 to %d)", v, maxListLimit)
		}
		limit = n
	}
	page := []W{}
	if offset < len(items) {
		for _, it := range items[offset:min(offset+limit, len(items))] {
			page = append(page, wire(it))
		}
	}
	res := &response{status: http.StatusOK, body: page}
	if offset+limit < len(items) {
		res.link = nextPageLink(r, offset+limit)
	}
	return res
}

// nextPageLink is the Link header for the request's page at offset.
func nextPageLink(r *http.Request, offset int) string {
	next := *r.URL
	next.Scheme, next.Host = "http", r.Host
	if r.TLS != nil {
		next.Scheme = "https"
	}
	nq := r.URL.Query()
	nq.Set("offset", strconv.Itoa(offset))
	next.RawQuery = nq.Encode()
	return "<" + next.String() + `>; rel="next"`
}

// wirePackage is a package as the API writes it: variables always an
// object.
type wirePackage struct {
	ID          int64             `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Variables   map[string]string `json:"variables"`
	OwnerID     int64             `json:"owner_id"`
	CreatedAt   *time.Time        `json:"created_at"`
	UpdatedAt   *time.Time        `json:"updated_at"`
	URL         string            `json:"url"`
	HTMLURL     string            `json:"html_url"`
	Status      string            `json:"status"`
}

func wirePackageOf(p *xplenty.Package) wirePackage {
	vars := cloneMap(p.Variables)
	if vars == nil {
		vars = map[string]string{}
	}
	return wirePackage{
		ID: p.ID, Name: p.Name, Description: p.Description, Variables: vars, OwnerID: p.OwnerID,
		CreatedAt: wireTime(p.CreatedAt), UpdatedAt: wireTime(p.UpdatedAt),
		URL: p.URL, HTMLURL: p.HTMLURL, Status: string(p.Status),
	}
}

// wireCluster is a cluster as the API writes it: plan_id null when there
// is none, every timestamp present (null when unset).
type wireCluster struct {
	ID               int64            `json:"id"`
	Name             string           `json:"name"`
	Description      string           `json:"description"`
	Status           string           `json:"status"`
	OwnerID          int64            `json:"owner_id"`
	PlanID           *int64           `json:"plan_id"`
	Nodes            int              `json:"nodes"`
	Type             string           `json:"type"`
	CreatedAt        *time.Time       `json:"created_at"`
	UpdatedAt        *time.Time       `json:"updated_at"`
	AvailableSince   *time.Time       `json:"available_since"`
	TerminatedAt     *time.Time       `json:"terminated_at"`
	RunningJobsCount int              `json:"running_jobs_count"`
	TerminateOnIdle  bool             `json:"terminate_on_idle"`
	TimeToIdle       int64            `json:"time_to_idle"`
	TerminatedOnIdle bool             `json:"terminated_on_idle"`
	Region           string           `json:"region"`
	Zone             string           `json:"zone"`
	IdleSince        *time.Time       `json:"idle_since"`
	URL              string           `json:"url"`
	HTMLURL          string           `json:"html_url"`
	Creator          *xplenty.Creator `json:"creator,omitempty"`
}

func wireClusterOf(c *xplenty.Cluster, running int) wireCluster {
	w := wireCluster{
		ID: c.ID, Name: c.Name, Description: c.Description, Status: string(c.Status), OwnerID: c.OwnerID,
		Nodes: c.Nodes, Type: c.Type,
		CreatedAt: wireTime(c.CreatedAt), UpdatedAt: wireTime(c.UpdatedAt),
		AvailableSince: wireTime(c.AvailableSince), TerminatedAt: wireTime(c.TerminatedAt),
		RunningJobsCount: c.RunningJobsCount + running,
		TerminateOnIdle:  c.TerminateOnIdle, TimeToIdle: c.TimeToIdle,
		TerminatedOnIdle: c.TerminateOnIdle && c.Status == xplenty.ClusterTerminated,
		Region:           c.Region, Zone: c.Zone, IdleSince: wireTime(c.IdleSince),
		URL: c.URL, HTMLURL: c.HTMLURL,
	}
	if c.PlanID > 0 {
		id := c.PlanID
		w.PlanID = &id
	}
	if c.Creator != nil {
		cr := *c.Creator
		w.Creator = &cr
	}
	return w
}
