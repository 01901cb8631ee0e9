package xplenty

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// PackageStatus is the state of a package. Unknown statuses are kept as
// they came.
type PackageStatus string

// The package statuses Xplenty documents.
const (
	PackageActive   PackageStatus = "active"
	PackageArchived PackageStatus = "archived"
)

// Package is an Xplenty package: a data flow that jobs run.
//
// Timestamps are nil when the API sends null or leaves them out.
type Package struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Variables are the package's declared variables and their default
	// values (often expressions), every value as text whatever JSON type
	// the API used.
	Variables map[string]string `json:"variables"`
	OwnerID   int64             `json:"owner_id"`
	Status    PackageStatus     `json:"status"`
	CreatedAt *time.Time        `json:"created_at"`
	UpdatedAt *time.Time        `json:"updated_at"`
	URL       string            `json:"url"`      // the API resource
	HTMLURL   string            `json:"html_url"` // the web page, for people
}

// VariableNames returns the names of the package's declared variables,
// sorted.
func (p Package) VariableNames() []string {
	names := make([]string, 0, len(p.Variables))
	for name := range p.Variables {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// PackageListOptions filter and order a list of packages. Zero values are
// left out of the request, so the server's defaults apply.
type PackageListOptions struct {
	Status    PackageStatus // a package status, or "all"
	Sort      string        // "created" (server default) or "updated"
	Direction string        // "desc" (server default) or "asc"
	Since     time.Time     // only packages updated at or after it
	Offset    int
	Limit     int // at most MaxListLimit
}

func (o PackageListOptions) query() (url.Values, error) {
	q := newListQuery()
	q.text("status", string(o.Status))
	q.oneOf("sort", o.Sort, "created", "updated")
	q.oneOf("direction", o.Direction, "asc", "desc")
	q.since(o.Since)
	q.paging(o.Offset, o.Limit)
	return q.result("list packages")
}

// PackageSearchOptions order and page a package search.
type PackageSearchOptions struct {
	Sort      string // "relevance" (server default), "created" or "modified"
	Direction string // "desc" (server default) or "asc"
	Offset    int
	Limit     int // at most MaxListLimit
}

// ListPackages fetches one page of the account's packages. page.NextURL is
// set when the server announced a next page; follow it with NextPackages,
// or use ListAllPackages.
func (c *Client) ListPackages(ctx context.Context, opts PackageListOptions) (*Page[Package], error) {
	q, err := opts.query()
	if err != nil {
		return nil, err
	}
	u, err := c.endpoint("packages")
	if err != nil {
		return nil, err
	}
	u.RawQuery = q.Encode()
	return getPage(ctx, c, u, routePackages, decodePackage)
}

// SearchPackages fetches one page of the packages that match q (GET
// packages/search?q=). Free words match names and descriptions; the API
// also understands name:"some words", id:434, -name:word. q must not be
// blank.
func (c *Client) SearchPackages(ctx context.Context, q string, opts PackageSearchOptions) (*Page[Package], error) {
	lq := newListQuery()
	if strings.TrimSpace(q) == "" {
		lq.problems = append(lq.problems, "q must not be blank")
	}
	lq.text("q", strings.TrimSpace(q))
	lq.oneOf("sort", opts.Sort, "relevance", "created", "modified")
	lq.oneOf("direction", opts.Direction, "asc", "desc")
	lq.paging(opts.Offset, opts.Limit)
	v, err := lq.result("search packages")
	if err != nil {
		return nil, err
	}
	u, err := c.endpoint("packages/search")
	if err != nil {
		return nil, err
	}
	u.RawQuery = v.Encode()
	return getPage(ctx, c, u, routePackageSearch, decodePackage)
}

// NextPackages fetches the page after page (of ListPackages or
// SearchPackages). It fails with ErrNoNextPage on the last page, and
// refuses a next link to another scheme, host or port than the base URL.
func (c *Client) NextPackages(ctx context.Context, page *Page[Package]) (*Page[Package], error) {
	return nextPage(ctx, c, page, routePackages, decodePackage)
}

// ListAllPackages follows next links from the first page of opts and
// returns every package seen, reading at most maxPages pages (at least 1).
// truncated reports that more pages were announced. On error, packages
// holds what the earlier pages returned.
func (c *Client) ListAllPackages(ctx context.Context, opts PackageListOptions, maxPages int) (packages []Package, truncated bool, err error) {
	if maxPages < 1 {
		return nil, false, fmt.Errorf("xplenty: list all packages: maxPages must be at least 1, got %d", maxPages)
	}
	first, err := c.ListPackages(ctx, opts)
	if err != nil {
		return nil, false, err
	}
	next := func(p *Page[Package]) (*Page[Package], error) { return c.NextPackages(ctx, p) }
	return allPages(first, maxPages, next, func(p Package) int64 { return p.ID })
}

// GetPackage fetches one package. An unknown id fails with an error for
// which IsNotFound holds; an answer without an id is undecodable
// (IsUndecodable).
func (c *Client) GetPackage(ctx context.Context, id int64) (*Package, error) {
	u, err := c.catalogURL("packages", id)
	if err != nil {
		return nil, err
	}
	var p Package
	check := func() error {
		if p.ID <= 0 {
			return fmt.Errorf("answer has no package id")
		}
		return nil
	}
	if _, err := c.do(ctx, &call{method: http.MethodGet, route: routePackage, u: u, out: &p, check: check}); err != nil {
		return nil, err
	}
	return &p, nil
}
