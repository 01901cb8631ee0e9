package xplenty

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
	return c.getJob(ctx, id, nil)
}

// GetJobWithLogSummary fetches one job like GetJob, asking the API to add
// its log summary (include=log_summary). Job.LogSummary is nil when the
// answer has none: the job did not fail, or the API does not offer it.
func (c *Client) GetJobWithLogSummary(ctx context.Context, id int64) (*Job, error) {
	return c.getJob(ctx, id, url.Values{"include": {"log_summary"}})
}

// getJob is GetJob with a query; the route is /jobs/{id} whatever the
// query.
func (c *Client) getJob(ctx context.Context, id int64, query url.Values) (*Job, error) {
	u, err := c.jobURL(id, "")
	if err != nil {
		return nil, err
	}
	u.RawQuery = query.Encode()
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
