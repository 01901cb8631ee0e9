package xplenty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Route templates reported to Config.OnResponse.
const (
	routeJobs   = "/jobs"
	routeJob    = "/jobs/{id}"
	routeJobLog = "/jobs/{id}/log"
)

// JobLog is a job's log as the API serves it.
type JobLog struct {
	Body string `json:"body"` // the log text (possibly only its latest part)
	URL  string `json:"url"`  // where the full log can be downloaded
}

// ValidVariableName reports whether name can be sent as a package
// variable: an ASCII letter or underscore, then letters, digits or
// underscores. The name becomes part of a form field name
// (job[variables][NAME]), so anything else, a bracket above all, could
// change which field the server fills.
func ValidVariableName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		switch {
		case b == '_', 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z':
		case '0' <= b && b <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Validate checks what RunJob would send: positive cluster and package
// ids, and variable names that ValidVariableName accepts. The error names
// every problem, but no variable value.
func (r RunRequest) Validate() error {
	var problems []string
	if r.ClusterID <= 0 {
		problems = append(problems, fmt.Sprintf("cluster id must be a positive number, got %d", r.ClusterID))
	}
	if r.PackageID <= 0 {
		problems = append(problems, fmt.Sprintf("package id must be a positive number, got %d", r.PackageID))
	}
	var bad []string
	for _, vars := range []map[string]string{r.Variables, r.DynamicVariables} {
		for name := range vars {
			if !ValidVariableName(name) {
				bad = append(bad, strconv.Quote(name))
			}
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		bad = slices.Compact(bad)
		noun := "name"
		if len(bad) > 1 {
			noun = "names"
		}
		problems = append(problems, fmt.Sprintf("invalid variable %s %s (use letters, digits and _, not starting with a digit)",
			noun, strings.Join(bad, ", ")))
	}
	if len(problems) > 0 {
		return fmt.Errorf("xplenty: run request: %s", strings.Join(problems, "; "))
	}
	return nil
}

// form encodes the request as the Run Job call's form fields.
func (r RunRequest) form() url.Values {
	f := url.Values{}
	f.Set("job[cluster_id]", strconv.FormatInt(r.ClusterID, 10))
	f.Set("job[package_id]", strconv.FormatInt(r.PackageID, 10))
	for name, value := range r.Variables {
		f.Set("job[variables]["+name+"]", value)
	}
	for name, value := range r.DynamicVariables {
		f.Set("job[dynamic_variables]["+name+"]", value)
	}
	return f
}

// RunJob starts a job: the package runs on the cluster with the given
// variables. The request is checked first (see RunRequest.Validate); an
// invalid one is never sent.
//
// A run request is not idempotent and is never repeated once it may have
// reached the server. When its outcome is unknown the error satisfies
// IsOutcomeUnknown: the job may be running, so look at the job list
// (JobsPageURL for people, ListJobs with PackageID for the bot) rather
// than starting it again. A redirect is never followed: a 3xx answer is
// such an unknown outcome (see Client). A 429 is returned at once, with
// IsRateLimited: the job was not started.
func (c *Client) RunJob(ctx context.Context, req RunRequest) (*Job, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	u, err := c.endpoint("jobs")
	if err != nil {
		return nil, err
	}
	var job Job
	_, err = c.do(ctx, &call{
		method: http.MethodPost,
		route:  routeJobs,
		u:      u,
		form:   req.form(),
		out:    &job,
		check:  job.hasID,
	})
	if err != nil {
		return nil, err
	}
	return &job, nil
}

// hasID rejects an answer that decoded but does not describe a job.
func (j *Job) hasID() error {
	if j.ID <= 0 {
		return errors.New("answer has no job id")
	}
	return nil
}

// GetJob fetches one job. An unknown id fails with an error for which
// IsNotFound holds.
func (c *Client) GetJob(ctx context.Context, id int64) (*Job, error) {
	u, err := c.jobURL(id, "")
	if err != nil {
		return nil, err
	}
	var job Job
	if _, err := c.do(ctx, &call{method: http.MethodGet, route: routeJob, u: u, out: &job, check: job.hasID}); err != nil {
		return nil, err
	}
	return &job, nil
}

// StopJob asks Xplenty to stop a job and returns it, normally in status
// pending_stoppage; poll it until it is stopped. Stopping a job that has
// finished fails with an error for which IsInvalid holds. StopJob is
// retried only when the request certainly did not reach the server, and
// follows no redirect: a 3xx answer is an unknown outcome (see Client).
func (c *Client) StopJob(ctx context.Context, id int64) (*Job, error) {
	u, err := c.jobURL(id, "")
	if err != nil {
		return nil, err
	}
	var job Job
	if _, err := c.do(ctx, &call{method: http.MethodDelete, route: routeJob, u: u, out: &job, allowEmpty: true}); err != nil {
		return nil, err
	}
	if job.ID == 0 {
		// A 2xx without a body still means the stop was accepted.
		job.ID = id
		if job.Status == "" {
			job.Status = StatusPendingStoppage
		}
	}
	return &job, nil
}

// JobLog fetches a job's log.
func (c *Client) JobLog(ctx context.Context, id int64) (*JobLog, error) {
	u, err := c.jobURL(id, "/log")
	if err != nil {
		return nil, err
	}
	var log JobLog
	if _, err := c.do(ctx, &call{method: http.MethodGet, route: routeJobLog, u: u, out: &log}); err != nil {
		return nil, err
	}
	return &log, nil
}

func (c *Client) jobURL(id int64, suffix string) (*url.URL, error) {
	if id <= 0 {
		return nil, fmt.Errorf("xplenty: job id must be a positive number, got %d", id)
	}
	return c.endpoint("jobs/" + strconv.FormatInt(id, 10) + suffix)
}

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
	var items []json.RawMessage
	h, err := c.do(ctx, &call{method: http.MethodGet, route: routeJobs, u: u, out: &items})
	if err != nil {
		return nil, err
	}
	page := &JobPage{Jobs: make([]Job, 0, len(items))}
	for i, item := range items {
		j, err := decodeListed(item)
		if err != nil {
			page.Undecodable = append(page.Undecodable, UndecodableJob{Index: i, ID: j.ID, Err: c.scrubErr(err)})
			continue
		}
		page.Jobs = append(page.Jobs, j)
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		page.ServerTime = d
	}
	if next := nextLink(h.Values("Link"), u); next != nil {
		page.NextURL = next.String()
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

// sameOrigin reports whether u goes to the same scheme, host and port as
// origin, and carries no user info.
func sameOrigin(u, origin *url.URL) bool {
	if u.User != nil || u.Opaque != "" || !strings.EqualFold(u.Scheme, origin.Scheme) {
		return false
	}
	return hostPort(u) == hostPort(origin)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
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

// JobsPageURL is the web page, for people, that lists the account's jobs:
// where to look when a run request's outcome is unknown. For the public
// API host (api.xplenty.com, or any api.* host) it is the web app's
// https://app.<domain>/<account>/jobs; for any other host (a proxy, the
// test server) it is <base URL><account>/jobs.
func (c *Client) JobsPageURL() string {
	acct := url.PathEscape(c.account)
	if rest, ok := strings.CutPrefix(strings.ToLower(c.base.Hostname()), "api."); ok {
		host := "app." + rest
		if p := c.base.Port(); p != "" {
			host = net.JoinHostPort(host, p)
		}
		return c.base.Scheme + "://" + host + "/" + acct + "/jobs"
	}
	return c.base.String() + acct + "/jobs"
}
