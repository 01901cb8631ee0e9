package xplenty

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// ClusterStatus is the state of a cluster. Unknown statuses are kept as
// they came and count as usable: only the documented end states refuse a
// job.
type ClusterStatus string

// The cluster statuses Xplenty documents. A cluster goes from pending
// through creating to available, turns idle when no job has run for a
// while, and ends through pending_terminate and terminating in terminated;
// error is a cluster that failed.
const (
	ClusterPending          ClusterStatus = "pending"
	ClusterCreating         ClusterStatus = "creating"
	ClusterAvailable        ClusterStatus = "available"
	ClusterIdle             ClusterStatus = "idle"
	ClusterError            ClusterStatus = "error"
	ClusterPendingTerminate ClusterStatus = "pending_terminate"
	ClusterTerminating      ClusterStatus = "terminating"
	ClusterTerminated       ClusterStatus = "terminated"
)

// Usable reports whether a cluster in this status can take a job: false
// for error, pending_terminate, terminating and terminated, true for every
// other status (a pending or creating cluster queues the job until it is
// up), unknown ones included.
func (s ClusterStatus) Usable() bool {
	switch s {
	case ClusterError, ClusterPendingTerminate, ClusterTerminating, ClusterTerminated:
		return false
	}
	return true
}

// Known reports whether s is one of the documented statuses.
func (s ClusterStatus) Known() bool {
	switch s {
	case ClusterPending, ClusterCreating, ClusterAvailable, ClusterIdle, ClusterError,
		ClusterPendingTerminate, ClusterTerminating, ClusterTerminated:
		return true
	}
	return false
}

// Cluster is an Xplenty cluster: the machines jobs run on.
//
// Timestamps are nil when the API sends null or leaves them out.
type Cluster struct {
	ID               int64         `json:"id"`
	Name             string        `json:"name"`
	Description      string        `json:"description"`
	Status           ClusterStatus `json:"status"`
	Type             string        `json:"type"` // "production" or "sandbox"
	Nodes            int           `json:"nodes"`
	RunningJobsCount int           `json:"running_jobs_count"`
	OwnerID          int64         `json:"owner_id"`
	PlanID           int64         `json:"plan_id"` // 0 when the API sends null
	Region           string        `json:"region,omitempty"`
	Zone             string        `json:"zone,omitempty"`
	TerminateOnIdle  bool          `json:"terminate_on_idle"`
	TimeToIdle       int64         `json:"time_to_idle"` // seconds
	CreatedAt        *time.Time    `json:"created_at"`
	UpdatedAt        *time.Time    `json:"updated_at"`
	AvailableSince   *time.Time    `json:"available_since"`
	IdleSince        *time.Time    `json:"idle_since"`
	TerminatedAt     *time.Time    `json:"terminated_at"`
	URL              string        `json:"url"`      // the API resource
	HTMLURL          string        `json:"html_url"` // the web page, for people
	Creator          *Creator      `json:"creator,omitempty"`
}

// ClusterListOptions filter and order a list of clusters. Zero values are
// left out of the request, so the server's defaults apply.
type ClusterListOptions struct {
	Status    ClusterStatus // a cluster status, or "all"
	Sort      string        // "created" (server default) or "updated"
	Direction string        // "desc" (server default) or "asc"
	Since     time.Time     // only clusters updated at or after it
	Offset    int
	Limit     int // at most MaxListLimit
}

// ListClusters fetches one page of the account's clusters. page.NextURL is
// set when the server announced a next page; follow it with NextClusters,
// or use ListAllClusters.
func (c *Client) ListClusters(ctx context.Context, opts ClusterListOptions) (*Page[Cluster], error) {
	q := newListQuery()
	q.text("status", string(opts.Status))
	q.oneOf("sort", opts.Sort, "created", "updated")
	q.oneOf("direction", opts.Direction, "asc", "desc")
	q.since(opts.Since)
	q.paging(opts.Offset, opts.Limit)
	v, err := q.result("list clusters")
	if err != nil {
		return nil, err
	}
	u, err := c.endpoint("clusters")
	if err != nil {
		return nil, err
	}
	u.RawQuery = v.Encode()
	return getPage(ctx, c, u, routeClusters, decodeCluster)
}

// NextClusters fetches the page after page. It fails with ErrNoNextPage on
// the last page, and refuses a next link to another scheme, host or port
// than the base URL.
func (c *Client) NextClusters(ctx context.Context, page *Page[Cluster]) (*Page[Cluster], error) {
	return nextPage(ctx, c, page, routeClusters, decodeCluster)
}

// ListAllClusters follows next links from the first page of opts and
// returns every cluster seen, reading at most maxPages pages (at least 1).
// truncated reports that more pages were announced. On error, clusters
// holds what the earlier pages returned.
func (c *Client) ListAllClusters(ctx context.Context, opts ClusterListOptions, maxPages int) (clusters []Cluster, truncated bool, err error) {
	if maxPages < 1 {
		return nil, false, fmt.Errorf("xplenty: list all clusters: maxPages must be at least 1, got %d", maxPages)
	}
	first, err := c.ListClusters(ctx, opts)
	if err != nil {
		return nil, false, err
	}
	next := func(p *Page[Cluster]) (*Page[Cluster], error) { return c.NextClusters(ctx, p) }
	return allPages(first, maxPages, next, func(cl Cluster) int64 { return cl.ID })
}

// GetCluster fetches one cluster. An unknown id fails with an error for
// which IsNotFound holds; an answer without an id is undecodable
// (IsUndecodable).
func (c *Client) GetCluster(ctx context.Context, id int64) (*Cluster, error) {
	u, err := c.catalogURL("clusters", id)
	if err != nil {
		return nil, err
	}
	var cl Cluster
	check := func() error {
		if cl.ID <= 0 {
			return fmt.Errorf("answer has no cluster id")
		}
		return nil
	}
	if _, err := c.do(ctx, &call{method: http.MethodGet, route: routeCluster, u: u, out: &cl, check: check}); err != nil {
		return nil, err
	}
	return &cl, nil
}
