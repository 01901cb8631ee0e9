package xplenty

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is where Xplenty serves its API (API docs, "Requests").
// The account id and "/api/" follow it.
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
//   - GET (GetJob, ListJobs, NextJobs, JobLog) is retried on 5xx and on
//     transport errors, with capped exponential backoff and full jitter,
//     as long as ctx allows.
//   - A 429 is never retried, whatever the method: it is returned at once
//     (IsRateLimited). The hourly budget (5,000 calls, shared with every
//     other tool on the account) refills only over the hour, so a retry
//     within seconds can only spend more of it, and clients that keep
//     calling over budget get blacklisted. Backing off is the caller's job;
//     the watcher does it (notifier.NextDelay).
//   - POST (RunJob) and DELETE (StopJob) are retried only when the request
//     certainly did not reach the server: no connection could be opened
//     (refused, DNS, TLS handshake). Once a connection was open they are
//     never repeated; a failure whose outcome is unknown then carries
//     ErrOutcomeUnknown. Repeating a stop would be harmless, but its 5xx
//     answers are rare and the caller polls the job anyway.
//
// Redirects: a GET follows a redirect within the base URL's origin only. A
// POST or DELETE follows none (see sameOriginRedirects): its 3xx answer is
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

// sameOriginRedirects returns a copy of hc (same transport, timeout and
// jar) that follows a redirect only for a GET, and only within its scheme,
// host and port. The redirect answer itself is returned instead, and
// becomes an *ErrorResponse.
//
// To another origin the Authorization header would go along (net/http keeps
// it for the same host name, whatever the port or scheme).
//
// A POST or DELETE follows no redirect at all: net/http turns a POST into a
// GET without its body on a 301, 302 or 303, so the run would silently become
// a read, and following a 307 or 308 would send the request a second time.
// Nor is a 3xx a clean refusal: a server may well act before redirecting
// (POST-redirect-GET answers 303 after creating the resource), so once or
// do sees it, it carries ErrOutcomeUnknown like any unexpected answer.
func (c *Client) sameOriginRedirects(hc *http.Client) *http.Client {
	cp := *hc
	next := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		// via[0] is the request as the caller made it; req.Method may
		// already have been rewritten to GET.
		if len(via) > 0 && (via[0].Method != http.MethodGet || !sameOrigin(req.URL, via[0].URL)) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// String names the client's endpoint and account, not its key.
func (c *Client) String() string {
	return fmt.Sprintf("xplenty.Client{BaseURL: %q, AccountID: %q}", c.base.String(), c.account)
}

// RateLimit returns the budget reported by the latest answer that carried
// the X-RateLimit headers, successful or not. It is safe for concurrent use.
func (c *Client) RateLimit() RateLimit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rate
}

func (c *Client) recordRate(h http.Header) {
	limit, errL := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit")))
	remaining, errR := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	if errL != nil && errR != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if errL == nil {
		c.rate.Limit = limit
	}
	if errR == nil {
		c.rate.Remaining = remaining
	}
	c.rate.Observed = time.Now()
}

// endpoint is the URL of path under the account's API root, e.g. "jobs/157".
func (c *Client) endpoint(path string) (*url.URL, error) {
	u, err := url.Parse(c.apiRoot + path)
	if err != nil {
		return nil, fmt.Errorf("xplenty: build URL for %s: %w", path, err)
	}
	return u, nil
}

// call describes one API call for do.
type call struct {
	method string
	route  string   // template for OnResponse, e.g. "/jobs/{id}"
	u      *url.URL // absolute, without user info
	form   url.Values
	out    any // decoded from a 2xx body when non-nil
	// allowEmpty accepts a 2xx without a body, leaving out untouched.
	allowEmpty bool
	// check vets the decoded answer; its error counts as an undecodable
	// answer.
	check func() error
}

func (cl *call) path() string { return cl.u.EscapedPath() }

// do sends the call, retrying what the method allows (see Client), and
// returns the answer's header. Every failure it returns is an
// *ErrorResponse or names the method and path; none names the host or
// holds the API key.
func (c *Client) do(ctx context.Context, cl *call) (http.Header, error) {
	for attempt := 1; ; attempt++ {
		h, retryBase, err := c.once(ctx, cl)
		if err == nil {
			return h, nil
		}
		if retryBase <= 0 || attempt >= c.maxAttempts || ctx.Err() != nil {
			return nil, err
		}
		if !sleep(ctx, c.backoff(attempt, retryBase)) {
			return nil, err
		}
	}
}

// backoff is the wait before attempt+1: full jitter over a capped
// exponential, so that many clients failing together do not retry together.
func (c *Client) backoff(attempt int, base time.Duration) time.Duration {
	ceiling := min(base, c.retryMax)
	for i := 1; i < attempt; i++ {
		if ceiling >= c.retryMax/2 {
			ceiling = c.retryMax
			break
		}
		ceiling *= 2
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling)))
}

// sleep waits d unless ctx ends first, or would end before d is over (then
// waiting is pointless). It reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// once makes one HTTP exchange. A positive retryBase means the failure may
// be retried with that backoff base.
func (c *Client) once(ctx context.Context, cl *call) (h http.Header, retryBase time.Duration, err error) {
	var body io.Reader
	if cl.form != nil {
		body = strings.NewReader(cl.form.Encode())
	}
	// connected turns true once a connection is open: from then on the
	// request may have reached the server.
	var connected atomic.Bool
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), cl.method, cl.u.String(), body)
	if err != nil {
		return nil, 0, fmt.Errorf("xplenty: %s %s: %w", cl.method, cl.path(), err)
	}
	req.Header.Set("Accept", mediaType)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Authorization", c.auth)
	if cl.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.observe(cl, 0, time.Since(start))
		err = c.transportError(cl, err)
		switch {
		case ctx.Err() != nil && (!connected.Load() || cl.method == http.MethodGet):
			return nil, 0, err
		case !connected.Load() || cl.method == http.MethodGet:
			return nil, c.retryBase, err
		default:
			return nil, 0, outcomeUnknown(err)
		}
	}
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBodySize+1))
	resp.Body.Close()
	c.observe(cl, resp.StatusCode, time.Since(start))
	c.recordRate(resp.Header)
	if readErr == nil && len(data) > maxBodySize {
		readErr = fmt.Errorf("answer larger than %d bytes", maxBodySize)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		er := &ErrorResponse{
			Method:     cl.method,
			Path:       cl.path(),
			StatusCode: resp.StatusCode,
			message:    truncate(c.scrub(errorMessage(data)), maxMessageLen),
		}
		switch {
		case cl.method == http.MethodGet && resp.StatusCode >= 500:
			return resp.Header, c.retryBase, er
		case cl.method == http.MethodGet, resp.StatusCode >= 400 && resp.StatusCode < 500:
			// Final, a 429 included: see Client for why it is not retried.
			return resp.Header, 0, er
		default:
			// A 5xx (often a gateway that lost the backend's answer), a
			// redirect (never followed, see sameOriginRedirects) or an
			// unexpected 1xx: the server may have acted.
			return resp.Header, 0, outcomeUnknown(er)
		}
	}

	if readErr != nil {
		err := fmt.Errorf("xplenty: %s %s: read answer: %w", cl.method, cl.path(), c.scrubErr(readErr))
		if cl.method == http.MethodGet {
			return resp.Header, c.retryBase, err
		}
		return resp.Header, 0, outcomeUnknown(err)
	}
	if err := c.decode(cl, data); err != nil {
		err = undecodable(fmt.Errorf("xplenty: %s %s: %d answer: %w", cl.method, cl.path(), resp.StatusCode, c.scrubErr(err)))
		if cl.method != http.MethodGet {
			err = outcomeUnknown(err)
		}
		return resp.Header, 0, err
	}
	return resp.Header, 0, nil
}

func (c *Client) decode(cl *call, data []byte) error {
	if cl.out == nil {
		return nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if cl.allowEmpty {
			return nil
		}
		return errors.New("empty body")
	}
	if err := json.Unmarshal(data, cl.out); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if cl.check != nil {
		return cl.check()
	}
	return nil
}

// transportError names the call without repeating the URL: *url.Error
// would add the host and the query to every message.
func (c *Client) transportError(cl *call, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("xplenty: %s %s: %w", cl.method, cl.path(), c.scrubErr(err))
}

func (c *Client) observe(cl *call, status int, d time.Duration) {
	if c.onResponse != nil {
		c.onResponse(cl.method, cl.route, status, d)
	}
}

// scrub removes the API key, raw or as Basic credentials, from text that
// came from elsewhere (a server echoing the request, say).
func (c *Client) scrub(s string) string {
	if c.apiKey == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.apiKey, "[redacted]")
	return strings.ReplaceAll(s, strings.TrimPrefix(c.auth, "Basic "), "[redacted]")
}

// scrubErr keeps err in the chain unless its text holds the key, in which
// case only the scrubbed text survives. Transport errors never should.
func (c *Client) scrubErr(err error) error {
	if s := err.Error(); c.scrub(s) != s {
		return errors.New(c.scrub(s))
	}
	return err
}
