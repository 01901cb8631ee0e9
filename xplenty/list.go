package xplenty

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Listing jobs: the query of a ListOptions, one page of jobs, and following
// the Link header's next page within the base URL's origin.

// query encodes the options, leaving out zero values so the server's
// defaults apply. Values the API documents as invalid are refused here,
// before they cost a call.
func (o ListOptions) query() (url.Values, error) {
	var problems []string
	q := url.Values{}
	if o.Status != "" {
		q.Set("status", string(o.Status))
	}
	switch o.Sort {
	case "":
	case "created", "updated":
		q.Set("sort", o.Sort)
	default:
		problems = append(problems, fmt.Sprintf("sort must be created or updated, got %q", o.Sort))
	}
	switch o.Direction {
	case "":
	case "asc", "desc":
		q.Set("direction", o.Direction)
	default:
		problems = append(problems, fmt.Sprintf("direction must be asc or desc, got %q", o.Direction))
	}
	if !o.Since.IsZero() {
		// Whole seconds, rounded down: the filter is inclusive, so the
		// answer can only grow, never miss a change.
		q.Set("since", o.Since.UTC().Truncate(time.Second).Format(time.RFC3339))
	}
	if o.PackageID < 0 {
		problems = append(problems, fmt.Sprintf("package id must not be negative, got %d", o.PackageID))
	} else if o.PackageID > 0 {
		q.Set("package_id", strconv.FormatInt(o.PackageID, 10))
	}
	if o.Offset < 0 {
		problems = append(problems, fmt.Sprintf("offset must not be negative, got %d", o.Offset))
	} else if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.Limit < 0 || o.Limit > MaxListLimit {
		problems = append(problems, fmt.Sprintf("limit must be between 0 (the server's default) and %d, got %d", MaxListLimit, o.Limit))
	} else if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("xplenty: list jobs: %s", strings.Join(problems, "; "))
	}
	return q, nil
}

// ListJobs fetches one page of the account's jobs. page.NextURL is set
// when the server announced a next page (Link: rel="next"); follow it with
// NextJobs, or use ListAllJobs.
//
// Watching many jobs costs one call per tick with
// ListOptions{Since: lastSeen, Sort: "updated", Direction: "asc", Limit: MaxListLimit}.
func (c *Client) ListJobs(ctx context.Context, opts ListOptions) (*JobPage, error) {
	q, err := opts.query()
	if err != nil {
		return nil, err
	}
	u, err := c.endpoint("jobs")
	if err != nil {
		return nil, err
	}
	u.RawQuery = q.Encode()
	return c.listPage(ctx, u)
}

// NextJobs fetches the page after page. It fails with ErrNoNextPage on the
// last page, and refuses a next link that points to another scheme, host
// or port than the base URL: the API key goes nowhere else.
func (c *Client) NextJobs(ctx context.Context, page *JobPage) (*JobPage, error) {
	if page == nil || page.NextURL == "" {
		return nil, ErrNoNextPage
	}
	u, err := url.Parse(page.NextURL)
	if err != nil {
		return nil, errors.New("xplenty: next page link is not a URL")
	}
	if !sameOrigin(u, c.base) {
		// The link is not repeated: it could carry anything.
		return nil, errors.New("xplenty: refusing to follow a next page link to another host")
	}
	return c.listPage(ctx, u)
}

func (c *Client) listPage(ctx context.Context, u *url.URL) (*JobPage, error) {
	// The page is a list of jobs of every tool on the account; each is
	// decoded on its own, so one odd job costs only itself (see
	// JobPage.Undecodable), not the page and every job after it.
	items, serverTime, next, err := c.fetchPage(ctx, u, routeJobs)
	if err != nil {
		return nil, err
	}
	page := &JobPage{Jobs: make([]Job, 0, len(items)), ServerTime: serverTime, NextURL: next}
	for i, item := range items {
		j, err := decodeListed(item)
		if err != nil {
			page.Undecodable = append(page.Undecodable, UndecodableJob{Index: i, ID: j.ID, Err: c.scrubErr(err)})
			continue
		}
		page.Jobs = append(page.Jobs, j)
	}
	return page, nil
}

// ListAllJobs follows next links from the first page of opts and returns
// every job seen, reading at most maxPages pages (maxPages must be at least
// 1). truncated reports that more pages were announced. A job that shows up
// twice (paging by offset while jobs are being added) is kept once, as first
// seen. On error, jobs holds what the earlier pages returned.
func (c *Client) ListAllJobs(ctx context.Context, opts ListOptions, maxPages int) (jobs []Job, truncated bool, err error) {
	if maxPages < 1 {
		return nil, false, fmt.Errorf("xplenty: list all jobs: maxPages must be at least 1, got %d", maxPages)
	}
	page, err := c.ListJobs(ctx, opts)
	if err != nil {
		return nil, false, err
	}
	seen := make(map[int64]bool)
	for n := 1; ; n++ {
		for _, j := range page.Jobs {
			if !seen[j.ID] {
				seen[j.ID] = true
				jobs = append(jobs, j)
			}
		}
		if page.NextURL == "" {
			return jobs, false, nil
		}
		if n >= maxPages {
			return jobs, true, nil
		}
		if page, err = c.NextJobs(ctx, page); err != nil {
			return jobs, false, err
		}
	}
}

// nextLink finds the rel="next" target in Link headers (RFC 8288),
// resolved against the request URL.
func nextLink(headers []string, reqURL *url.URL) *url.URL {
	for _, h := range headers {
		for _, link := range splitLinks(h) {
			start, end := strings.IndexByte(link, '<'), strings.IndexByte(link, '>')
			if start != 0 || end < 0 {
				continue
			}
			target := link[1:end]
			for _, param := range strings.Split(link[end+1:], ";") {
				key, value, ok := strings.Cut(strings.TrimSpace(param), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(key), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(value), `"`)) {
					if strings.EqualFold(rel, "next") {
						if u, err := reqURL.Parse(target); err == nil {
							return u
						}
					}
				}
			}
		}
	}
	return nil
}

// splitLinks splits a Link header at the commas between links, not those
// inside a <URL> or a quoted parameter.
func splitLinks(h string) []string {
	var links []string
	inURL, inQuote, start := false, false, 0
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '<':
			if !inQuote {
				inURL = true
			}
		case '>':
			if !inQuote {
				inURL = false
			}
		case '"':
			if !inURL {
				inQuote = !inQuote
			}
		case ',':
			if !inURL && !inQuote {
				links = append(links, strings.TrimSpace(h[start:i]))
				start = i + 1
			}
		}
	}
	return append(links, strings.TrimSpace(h[start:]))
}
