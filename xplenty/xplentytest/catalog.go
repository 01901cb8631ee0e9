package xplentytest

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// The server's catalog: the packages and clusters it serves (GET packages,
// packages/search, packages/{id}, clusters, clusters/{id}). The catalog
// does not limit runs: a run may name any package and cluster, as before
// (Options.KnownPackages, MissingPackages and MissingClusters do that).

// AddPackage adds a package to the catalog, or replaces the one with its
// id. The id must be positive. Empty fields get defaults: status active,
// owner, timestamps (now), url and html_url on this server.
func (s *Server) AddPackage(p xplenty.Package) error {
	if p.ID <= 0 {
		return fmt.Errorf("xplentytest: package id must be positive, got %d", p.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addPackage(p, s.now())
	return nil
}

func (s *Server) addPackage(p xplenty.Package, now time.Time) {
	p.Variables = cloneMap(p.Variables)
	if p.Status == "" {
		p.Status = xplenty.PackageActive
	}
	if p.OwnerID == 0 {
		p.OwnerID = creatorID
	}
	p.CreatedAt = orNow(p.CreatedAt, now)
	p.UpdatedAt = orNow(p.UpdatedAt, now)
	acct, id := s.baseURL+url.PathEscape(s.acct), strconv.FormatInt(p.ID, 10)
	if p.URL == "" {
		p.URL = acct + "/api/packages/" + id
	}
	if p.HTMLURL == "" {
		p.HTMLURL = acct + "/packages/" + id
	}
	s.packages[p.ID] = &p
}

// AddCluster adds a cluster to the catalog, or replaces the one with its
// id. The id must be positive. Empty fields get defaults: status
// available, type production, 2 nodes, owner, timestamps (now; and
// available_since, idle_since or terminated_at as the status implies), url
// and html_url on this server.
//
// The running_jobs_count the server answers is the cluster's
// RunningJobsCount plus the server's jobs on that cluster that have not
// finished.
func (s *Server) AddCluster(c xplenty.Cluster) error {
	if c.ID <= 0 {
		return fmt.Errorf("xplentytest: cluster id must be positive, got %d", c.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCluster(c, s.now())
	return nil
}

func (s *Server) addCluster(c xplenty.Cluster, now time.Time) {
	if c.Status == "" {
		c.Status = xplenty.ClusterAvailable
	}
	if c.Type == "" {
		c.Type = "production"
	}
	if c.Nodes == 0 {
		c.Nodes = 2
	}
	if c.OwnerID == 0 {
		c.OwnerID = creatorID
	}
	c.CreatedAt = orNow(c.CreatedAt, now)
	c.UpdatedAt = orNow(c.UpdatedAt, now)
	c.AvailableSince = copyTime(c.AvailableSince)
	c.IdleSince = copyTime(c.IdleSince)
	c.TerminatedAt = copyTime(c.TerminatedAt)
	switch {
	case c.AvailableSince == nil && c.Status == xplenty.ClusterAvailable:
		c.AvailableSince = copyTime(c.UpdatedAt)
	case c.IdleSince == nil && c.Status == xplenty.ClusterIdle:
		c.IdleSince = copyTime(c.UpdatedAt)
	case c.TerminatedAt == nil && c.Status == xplenty.ClusterTerminated:
		c.TerminatedAt = copyTime(c.UpdatedAt)
	}
	if c.Creator != nil {
		cr := *c.Creator
		c.Creator = &cr
	}
	acct, id := s.baseURL+url.PathEscape(s.acct), strconv.FormatInt(c.ID, 10)
	if c.URL == "" {
		c.URL = acct + "/api/clusters/" + id
	}
	if c.HTMLURL == "" {
		c.HTMLURL = acct + "/clusters/" + id
	}
	s.clusters[c.ID] = &c
}

// SetClusterStatus puts a cluster in status st as of now, stamping
// updated_at and what goes with the status (available_since, idle_since,
// terminated_at). Any non-empty status is accepted, unknown ones included.
func (s *Server) SetClusterStatus(id int64, st xplenty.ClusterStatus) error {
	if st == "" {
		return fmt.Errorf("xplentytest: empty status for cluster %d", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clusters[id]
	if c == nil {
		return fmt.Errorf("xplentytest: no cluster %d", id)
	}
	now := s.now()
	c.Status = st
	c.UpdatedAt = timePtr(now)
	switch st {
	case xplenty.ClusterAvailable:
		c.AvailableSince, c.IdleSince, c.TerminatedAt = timePtr(now), nil, nil
	case xplenty.ClusterIdle:
		c.IdleSince = timePtr(now)
	case xplenty.ClusterTerminated:
		c.TerminatedAt = timePtr(now)
	}
	return nil
}

// RemovePackage and RemoveCluster take an entry out of the catalog: the
// API then answers 404 for it. They report whether it was there.
func (s *Server) RemovePackage(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.packages[id]
	delete(s.packages, id)
	return ok
}

// RemoveCluster: see RemovePackage.
func (s *Server) RemoveCluster(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.clusters[id]
	delete(s.clusters, id)
	return ok
}

// Packages returns a copy of the catalog's packages, by id.
func (s *Server) Packages() []xplenty.Package {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]xplenty.Package, 0, len(s.packages))
	for _, p := range s.sortedPackages() {
		out = append(out, copyPackage(p))
	}
	return out
}

// Clusters returns a copy of the catalog's clusters, by id, with
// RunningJobsCount as the server answers it.
func (s *Server) Clusters() []xplenty.Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	running := s.runningByCluster(s.now())
	out := make([]xplenty.Cluster, 0, len(s.clusters))
	for _, c := range s.sortedClusters() {
		cc := copyCluster(c)
		cc.RunningJobsCount += running[c.ID]
		out = append(out, cc)
	}
	return out
}

func (s *Server) sortedPackages() []*xplenty.Package {
	out := make([]*xplenty.Package, 0, len(s.packages))
	for _, p := range s.packages {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *xplenty.Package) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (s *Server) sortedClusters() []*xplenty.Cluster {
	out := make([]*xplenty.Cluster, 0, len(s.clusters))
	for _, c := range s.clusters {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *xplenty.Cluster) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// runningByCluster counts, per cluster, the jobs that have not finished.
func (s *Server) runningByCluster(now time.Time) map[int64]int {
	n := map[int64]int{}
	for _, j := range s.order {
		s.advance(j, now)
		if !j.Status.Terminal() {
			n[j.ClusterID]++
		}
	}
	return n
}

func orNow(t *time.Time, now time.Time) *time.Time {
	if t == nil {
		return timePtr(now)
	}
	return copyTime(t)
}

func copyPackage(p *xplenty.Package) xplenty.Package {
	c := *p
	c.Variables = cloneMap(p.Variables)
	c.CreatedAt, c.UpdatedAt = secondsPtr(p.CreatedAt), secondsPtr(p.UpdatedAt)
	return c
}

func copyCluster(c *xplenty.Cluster) xplenty.Cluster {
	out := *c
	out.CreatedAt, out.UpdatedAt = secondsPtr(c.CreatedAt), secondsPtr(c.UpdatedAt)
	out.AvailableSince, out.IdleSince = secondsPtr(c.AvailableSince), secondsPtr(c.IdleSince)
	out.TerminatedAt = secondsPtr(c.TerminatedAt)
	if c.Creator != nil {
		cr := *c.Creator
		out.Creator = &cr
	}
	return out
}
