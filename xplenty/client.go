package xplenty

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is where Xplenty serves its API. The account id and
// "/api/" follow it: https://api.xplenty.com/<account>/api/jobs.
const DefaultBaseURL = "https://api.xplenty.com/"

// mediaType pins version 2 of the API: without the version parameter the
// server answers with its latest representation, which may differ.
const mediaType = "application/vnd.xplenty+json; version=2"

const (
	defaultTimeout     = 30 * time.Second
	defaultUserAgent   = "runjob/dev"
	defaultMaxAttempts = 4
	defaultRetryBase   = 500 * time.Millisecond
	defaultRetryMax    = 30 * time.Second
	// maxBodySize bounds what is read from one answer. A page of 100 jobs
	// is tens of kilobytes; logs are the largest bodies the API sends.
	maxBodySize = 16 << 20
)

// Config configures a Client. AccountID and APIKey are required; the
// zero value of every other field selects its default.
type Config struct {
	// BaseURL is the API root; default DefaultBaseURL. It may carry a
	// path (http://host/prefix/); requests are resolved relative to it.
	// It must not contain user info, a query or a fragment.
	BaseURL string
	// AccountID is the account's text id (e.g. "acme"), the first path
	// segment of every call.
	AccountID string
	// APIKey authenticates every call (HTTP Basic, key as user name). It
	// never appears in an error, in String or in a URL.
	APIKey string
	// HTTPClient sends the requests; default &http.Client{Timeout: 30 * time.Second}.
	HTTPClient *http.Client
	// UserAgent is sent with every request; default "runjob/dev". Set it to
	// "runjob/<version>".
	UserAgent string
	// MaxAttempts bounds the tries of one call, the first included;
	// default 4. Which failures are retried depends on the method: see Client.
	MaxAttempts int
	// RetryBase and RetryMax shape the backoff between attempts: attempt n
	// waits a random time in [0, min(RetryMax, RetryBase·2ⁿ⁻¹)] ("full
	// jitter"). Defaults 500ms and 30s.
	RetryBase, RetryMax time.Duration
	// OnResponse, when set, is called after every HTTP exchange, retries
	// included, e.g. to count calls for metrics. route is a template such
	// as "/jobs/{id}"; status is 0 when no answer came (transport error);
	// d is the time from sending to having read the answer. It is called
	// synchronously from the calling goroutine and must be fast.
	OnResponse func(method, route string, status int, d time.Duration)
}

// String describes the configuration without the API key, so a Config can
// be logged.
func (cfg Config) String() string {
	key := "unset"
	if cfg.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("xplenty.Config{BaseURL: %q, AccountID: %q, APIKey: %s, UserAgent: %q, MaxAttempts: %d, RetryBase: %s, RetryMax: %s}",
		cfg.BaseURL, cfg.AccountID, key, cfg.UserAgent, cfg.MaxAttempts, cfg.RetryBase, cfg.RetryMax)
}

// GoString is String, so that %#v does not print the API key either.
func (cfg Config) GoString() string { return cfg.String() }

// Client calls the Xplenty jobs API for one account. It is safe for
// concurrent use.
//
// Retries happen in one place and depend on what a repeat could do:
//   - GET (GetJob, GetJobWithLogSummary, ListJobs, NextJobs, JobLog,
//     ListHooks, and the package and cluster calls) is retried on 5xx and
//     on transport errors, with capped exponential backoff and full
//     jitter, as long as ctx allows.
//   - A 429 is never retried, whatever the method: it is returned at once
//     (IsRateLimited). The hourly budget (5,000 calls, shared with every
//     other tool on the account) refills only over the hour, so a retry
//     within seconds can only spend more of it, and clients that keep
//     calling over budget get blacklisted. Backing off is the caller's job;
//     runjob's job watcher does it by slowing its polling.
//   - POST (RunJob, CreateWebHook), PUT (UpdateWebHook) and DELETE
//     (StopJob) are retried only when the request certainly did not reach
//     the server: no connection could be opened (refused, DNS, TLS
//     handshake). Once a connection was open they are
//     never repeated; a failure whose outcome is unknown then carries
//     ErrOutcomeUnknown. Repeating a stop would be harmless, but its 5xx
//     answers are rare and the caller polls the job anyway.
//
// Redirects: a GET follows a redirect within the base URL's origin only. A
// POST, PUT or DELETE follows none (see sameOriginRedirects): its 3xx answer is
// returned as an *ErrorResponse carrying ErrOutcomeUnknown.
type Client struct {
	base        *url.URL
	apiRoot     string // base + escaped account + "/api/"
	account     string
	apiKey      string // kept only to scrub it from server messages
	auth        string // Authorization header value
	hc          *http.Client
	userAgent   string
	maxAttempts int
	retryBase   time.Duration
	retryMax    time.Duration
	onResponse  func(method, route string, status int, d time.Duration)

	mu   sync.Mutex
	rate RateLimit
}

// New checks cfg and returns a Client. It fails, naming every problem, when
// a required field is missing or a value is malformed; the API key is never
// part of the error.
func New(cfg Config) (*Client, error) {
	var problems []string
	baseStr := cfg.BaseURL
	if baseStr == "" {
		baseStr = DefaultBaseURL
	}
	base, err := parseBaseURL(baseStr)
	if err != nil {
		problems = append(problems, err.Error())
	}
	switch {
	case cfg.AccountID == "":
		problems = append(problems, "account id is required")
	case cfg.AccountID == "." || cfg.AccountID == "..":
		problems = append(problems, fmt.Sprintf("account id %q is not valid", cfg.AccountID))
	case strings.TrimSpace(cfg.AccountID) != cfg.AccountID || hasControl(cfg.AccountID):
		problems = append(problems, fmt.Sprintf("account id %q has surrounding spaces or control characters", cfg.AccountID))
	}
	switch {
	case cfg.APIKey == "":
		problems = append(problems, "API key is required")
	case strings.ContainsAny(cfg.APIKey, ": \t") || hasControl(cfg.APIKey):
		// Basic auth cannot carry a colon in the user name; spaces and
		// control characters are left over from copying the key.
		problems = append(problems, "API key contains a colon, spaces or control characters")
	}
	if cfg.MaxAttempts < 0 {
		problems = append(problems, fmt.Sprintf("max attempts must not be negative, got %d", cfg.MaxAttempts))
	}
	if cfg.RetryBase < 0 || cfg.RetryMax < 0 {
		problems = append(problems, "retry durations must not be negative")
	}
	if strings.ContainsAny(cfg.UserAgent, "\r\n") {
		problems = append(problems, "user agent must be one line")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("xplenty: invalid config: %s", strings.Join(problems, "; "))
	}

	c := &Client{
		base:        base,
		apiRoot:     base.String() + url.PathEscape(cfg.AccountID) + "/api/",
		account:     cfg.AccountID,
		apiKey:      cfg.APIKey,
		auth:        "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.APIKey+":")),
		hc:          cfg.HTTPClient,
		userAgent:   cfg.UserAgent,
		maxAttempts: cfg.MaxAttempts,
		retryBase:   cfg.RetryBase,
		retryMax:    cfg.RetryMax,
		onResponse:  cfg.OnResponse,
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: defaultTimeout}
	}
	c.hc = c.sameOriginRedirects(c.hc)
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	if c.maxAttempts == 0 {
		c.maxAttempts = defaultMaxAttempts
	}
	if c.retryBase == 0 {
		c.retryBase = defaultRetryBase
	}
	if c.retryMax == 0 {
		c.retryMax = defaultRetryMax
	}
	return c, nil
}

// parseBaseURL accepts an absolute http(s) URL without user info, query or
// fragment and gives it a trailing slash. Its errors do not repeat the URL:
// it could hold a password.
func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("base URL is not a URL")
	}
	if u.User != nil {
		return nil, errors.New("base URL must not contain user info (the API key is sent in a header)")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("base URL must start with https:// or http://")
	}
	if u.Host == "" {
		return nil, errors.New("base URL has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, errors.New("base URL must not have a query or a fragment")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// String names the client's endpoint and account, not its key.
func (c *Client) String() string {
	return fmt.Sprintf("xplenty.Client{BaseURL: %q, AccountID: %q}", c.base.String(), c.account)
}

// endpoint is the URL of path under the account's API root, e.g. "jobs/157".
func (c *Client) endpoint(path string) (*url.URL, error) {
	u, err := url.Parse(c.apiRoot + path)
	if err != nil {
		return nil, fmt.Errorf("xplenty: build URL for %s: %w", path, err)
	}
	return u, nil
}
