// Package xplentytest is an in-memory Xplenty jobs API, with its packages
// and clusters, on an httptest.Server. It speaks the same wire format as the real service
// (Basic auth, the vnd.xplenty media type, form or JSON run requests, Link
// paging, rate-limit headers, the documented error answers), so the xplenty
// client, the notifier and the bot can be tested end to end without the
// network and without spending a real account's budget.
//
// It is not only for tests: the bot's sandbox mode runs it in-process with
// an automatic Lifecycle, so nothing here needs a *testing.T.
//
// Jobs only change when the test changes them (SetStatus and friends),
// unless Options.Lifecycle is set: then they move idle → pending → running →
// completed or failed on the clock (Options.Now). The lifecycle is computed
// lazily, whenever a job is read or listed, with each change stamped at the
// moment it was due, so a list with since= sees exactly what a background
// process would have produced, deterministically.
//
// The hooks API is served too (hooks.go), and the hooks work: an active
// web hook is POSTed to, with its credentials, when a job enters a status
// it listens for (job.submitted, started, stopped, completed, failed; see
// AddWebHook and HookDeliveries).
//
// Like the real API, the server shows times to the second: answers, Job and
// Jobs hold whole seconds, and since= (inclusive) and sort=updated compare
// whole seconds, whatever the precision of Options.Now.
package xplentytest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// Defaults for Options.
const (
	DefaultAccountID  = "acme"
	DefaultAPIKey     = "test-key"
	DefaultFirstJobID = 1001
	// DefaultBudget is Xplenty's hourly call budget: 5,000 credits an
	// hour, one per call.
	DefaultBudget       = 5000
	defaultKeepRequests = 10000
	maxRequestBody      = 1 << 20
)

// Options configure a Server. The zero value is a working server.
type Options struct {
	AccountID  string           // default "acme"
	APIKey     string           // default "test-key"
	FirstJobID int64            // id of the first job run; default 1001
	Budget     int              // calls per hour before 429; 0 means DefaultBudget
	Now        func() time.Time // the clock for timestamps, lifecycle and budget; default time.Now
	// Lifecycle, when set, moves jobs on its own; nil leaves every change
	// to the test.
	Lifecycle *Lifecycle
	// BasePath is the path the API is served under, with slashes at both
	// ends; default "/". Any other value (e.g. "/xplenty/") makes a client
	// that ignores its base URL's path fail loudly.
	BasePath string
	// KnownPackages, when non-nil, lists the only package ids a run may
	// name. MissingPackages lists ids that do not exist. A run naming an
	// unknown package is answered 422 {"message":"Package 999 not found"}.
	KnownPackages   []int64
	MissingPackages []int64
	// MissingClusters lists cluster ids answered 422
	// {"message":"Cluster 7 not found"}; every other cluster exists.
	MissingClusters []int64
	// KeepRequests bounds how many requests Requests remembers (the
	// latest); default 10000, so a long sandbox session stays small.
	KeepRequests int
	// Packages and Clusters are the catalog the server starts with (GET
	// packages, clusters; see AddPackage and AddCluster). nil means
	// DefaultPackages and DefaultClusters; an empty slice, none. The
	// catalog does not limit runs.
	Packages []xplenty.Package
	Clusters []xplenty.Cluster
}

// Request is one request the server received, as it arrived.
type Request struct {
	Method string
	Path   string     // URL path, base path included, unescaped
	Query  url.Values // parsed query string
	// Form is the parsed body of a form-encoded request (nil otherwise),
	// without the query string.
	Form   url.Values
	Body   []byte
	Header http.Header
	At     time.Time // per Options.Now
	// AcceptVersion is the version parameter of the Xplenty media type in
	// the Accept header: "2" for what the client sends, "" when the header
	// names application/vnd.xplenty+json without a version (as a curl
	// example may; the server answers it with version 2) or not at all.
	AcceptVersion string
}

// Server is an in-memory Xplenty. It is safe for concurrent use.
type Server struct {
	srv       *httptest.Server
	handler   http.Handler
	closed    chan struct{}
	closeOnce sync.Once

	acct      string
	key       string
	basePath  string
	apiPrefix string // escaped: basePath + account + "/api/"
	baseURL   string // srv.URL + basePath
	now       func() time.Time
	lc        *Lifecycle
	known     map[int64]bool // nil: every package exists
	missing   map[int64]bool
	noCluster map[int64]bool
	keep      int

	mu            sync.Mutex
	jobs          map[int64]*job
	order         []*job // by id, which is creation order
	nextID        int64
	nextOutputID  int64
	nextSummaryID int64 // 0 until the first log summary is numbered
	budget        int
	used          int
	windowStart   time.Time // zero: no call counted in the current hour
	failN         int
	failStatus    int
	failMessage   string
	dropN         int
	latency       time.Duration
	requests      []Request
	requestCount  int
	packages      map[int64]*xplenty.Package // the catalog
	clusters      map[int64]*xplenty.Cluster
	hooks         hookState // hooks.go
}

// New starts a server. Close it when done.
func New(opts Options) *Server {
	s := &Server{
		closed:       make(chan struct{}),
		acct:         opts.AccountID,
		key:          opts.APIKey,
		basePath:     opts.BasePath,
		now:          opts.Now,
		keep:         opts.KeepRequests,
		jobs:         make(map[int64]*job),
		nextID:       opts.FirstJobID,
		nextOutputID: 501,
		budget:       opts.Budget,
		missing:      idSet(opts.MissingPackages),
		noCluster:    idSet(opts.MissingClusters),
	}
	if s.acct == "" {
		s.acct = DefaultAccountID
	}
	if s.key == "" {
		s.key = DefaultAPIKey
	}
	if s.nextID <= 0 {
		s.nextID = DefaultFirstJobID
	}
	if s.budget <= 0 {
		s.budget = DefaultBudget
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.keep <= 0 {
		s.keep = defaultKeepRequests
	}
	if opts.KnownPackages != nil {
		s.known = idSet(opts.KnownPackages)
	}
	if opts.Lifecycle != nil {
		lc := *opts.Lifecycle
		lc.FailureRate = min(max(lc.FailureRate, 0), 1)
		s.lc = &lc
	}
	s.basePath = "/" + strings.Trim(s.basePath, "/") + "/"
	if s.basePath == "//" {
		s.basePath = "/"
	}
	s.apiPrefix = (&url.URL{Path: s.basePath}).EscapedPath() + url.PathEscape(s.acct) + "/api/"
	s.handler = http.HandlerFunc(s.serveHTTP)
	s.srv = httptest.NewServer(s.handler)
	s.baseURL = s.srv.URL + (&url.URL{Path: s.basePath}).EscapedPath()
	s.initCatalog(opts.Packages, opts.Clusters)
	return s
}

// initCatalog fills the catalog; it needs baseURL for the entries' URLs.
func (s *Server) initCatalog(packages []xplenty.Package, clusters []xplenty.Cluster) {
	now := s.now()
	if packages == nil {
		packages = DefaultPackages(now)
	}
	if clusters == nil {
		clusters = DefaultClusters(now)
	}
	s.packages = make(map[int64]*xplenty.Package, len(packages))
	s.clusters = make(map[int64]*xplenty.Cluster, len(clusters))
	for _, p := range packages {
		if p.ID > 0 {
			s.addPackage(p, now)
		}
	}
	for _, c := range clusters {
		if c.ID > 0 {
			s.addCluster(c, now)
		}
	}
}

func idSet(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// URL is the base URL to put in xplenty.Config.BaseURL. It ends with "/".
func (s *Server) URL() string { return s.baseURL }

// AccountID is the account the server serves.
func (s *Server) AccountID() string { return s.acct }

// APIKey is the only key the server accepts.
func (s *Server) APIKey() string { return s.key }

// Handler is the server's HTTP handler, for mounting it elsewhere. It
// serves under Options.BasePath.
func (s *Server) Handler() http.Handler { return s.handler }

// Close shuts the server down, ending any answer delayed by SetLatency.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.srv.Close()
}

// FailNext makes the next n requests, whatever they are, answer status
// with {"message": message} (the status text when message is empty)
// without doing anything: no job is run or stopped, no budget is spent.
// The rate-limit headers are still sent.
func (s *Server) FailNext(n int, status int, message string) {
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	if message == "" {
		message = http.StatusText(status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus, s.failMessage = n, status, message
}

// DropNextAnswers makes the next n requests be carried out (a run starts
// the job) but lose their answer: the connection is closed before any byte
// of it is written. This is how a client meets an unknown outcome.
func (s *Server) DropNextAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropN = n
}

// SetLatency delays every answer by d (real time, not Options.Now), after
// the request has been carried out. A client that gives up earlier has
// still run its job.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Requests returns the requests received since the last ResetRequests,
// oldest first (at most Options.KeepRequests, the latest).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r
		out[i].Query = cloneValues(r.Query)
		out[i].Form = cloneValues(r.Form)
		out[i].Header = r.Header.Clone()
		out[i].Body = bytes.Clone(r.Body)
	}
	return out
}

// RequestCount is the number of requests received since the last
// ResetRequests, including those Requests no longer remembers.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requestCount
}

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.requestCount = nil, 0
}

// SetBudget sets the hourly call budget to n (at least 0) without
// forgetting the calls already made this hour. SetBudget(0) makes every
// authenticated call answer 429.
func (s *Server) SetBudget(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget = max(n, 0)
}

// Remaining is what X-RateLimit-Remaining would say now.
func (s *Server) Remaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindow(s.now())
	return max(s.budget-s.used, 0)
}

// rollWindow starts a new hour of budget once the current one is over.
// The window opens at the first counted call, like a fixed hourly quota.
func (s *Server) rollWindow(now time.Time) {
	if !s.windowStart.IsZero() && (now.Sub(s.windowStart) >= time.Hour || now.Before(s.windowStart)) {
		s.windowStart, s.used = time.Time{}, 0
	}
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	return url.Values(http.Header(v).Clone())
}

// response is an answer before it is written.
type response struct {
	status int
	body   any
	link   string
}

func errorAnswer(status int, format string, args ...any) *response {
	return &response{status: status, body: map[string]string{"message": fmt.Sprintf(format, args...)}}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	res := s.handle(r, body)

	s.mu.Lock()
	drop := s.dropN > 0
	if drop {
		s.dropN--
	}
	latency := s.latency
	s.rollWindow(s.now())
	limit, remaining := s.budget, max(s.budget-s.used, 0)
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.closed:
			t.Stop()
			return
		}
	}
	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		// Not HTTP/1 (or already hijacked): net/http's own way to cut an
		// answer short.
		panic(http.ErrAbortHandler)
	}

	data, err := json.Marshal(res.body)
	if err != nil {
		res = errorAnswer(http.StatusInternalServerError, "encode answer: %v", err)
		data, _ = json.Marshal(res.body)
	}
	h := w.Header()
	h.Set("Content-Type", "application/vnd.xplenty+json; version=2; charset=utf-8")
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	if res.link != "" {
		h.Set("Link", res.link)
	}
	w.WriteHeader(res.status)
	w.Write(data)
}

// handle records the request, checks it the way Xplenty does and carries
// it out.
func (s *Server) handle(r *http.Request, body []byte) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.record(r, body, now)

	if s.failN > 0 {
		s.failN--
		return errorAnswer(s.failStatus, "%s", s.failMessage)
	}
	if !s.authorized(r) {
		return errorAnswer(http.StatusUnauthorized, "Unauthorized: send your API key as the HTTP Basic user name")
	}
	s.rollWindow(now)
	if s.used >= s.budget {
		return errorAnswer(http.StatusTooManyRequests, "Rate Limit Exceeded")
	}
	if s.windowStart.IsZero() {
		s.windowStart = now
	}
	s.used++
	if ok, _ := xplentyAccept(r.Header.Values("Accept")); !ok {
		return errorAnswer(http.StatusNotAcceptable, "Not Acceptable: send Accept: application/vnd.xplenty+json; version=2")
	}
	return s.route(r, body, now)
}

func (s *Server) record(r *http.Request, body []byte, now time.Time) {
	req := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Body:   bytes.Clone(body),
		Header: r.Header.Clone(),
		At:     now,
	}
	_, req.AcceptVersion = xplentyAccept(r.Header.Values("Accept"))
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "application/x-www-form-urlencoded" {
		req.Form, _ = url.ParseQuery(string(body))
	}
	s.requestCount++
	if len(s.requests) >= s.keep {
		s.requests = slices.Delete(s.requests, 0, len(s.requests)-s.keep+1)
	}
	s.requests = append(s.requests, req)
}

// authorized checks HTTP Basic auth: the API key as user, no password.
func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	return ok && pass == "" && subtle.ConstantTimeCompare([]byte(user), []byte(s.key)) == 1
}

// xplentyAccept reports whether an Accept header asks for the Xplenty media
// type, with any version parameter or none, and the version it names ("" for
// none).
func xplentyAccept(values []string) (ok bool, version string) {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == "application/vnd.xplenty+json" {
				return true, params["version"]
			}
		}
	}
	return false, ""
}

// route dispatches by path under the account's API root.
func (s *Server) route(r *http.Request, body []byte, now time.Time) *response {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), s.apiPrefix)
	if !ok {
		return errorAnswer(http.StatusNotFound, "Item not found.")
	}
	segs := strings.Split(rest, "/")
	if segs[0] == "packages" || segs[0] == "clusters" {
		return s.routeCatalog(r, segs, now)
	}
	if segs[0] == "hooks" {
		return s.routeHooks(r, segs, body)
	}
	if segs[0] != "jobs" || len(segs) > 3 {
		return errorAnswer(http.StatusNotFound, "Item not found.")
	}
	if len(segs) == 1 {
		switch r.Method {
		case http.MethodGet:
			return s.list(r, now)
		case http.MethodPost:
			return s.run(r, body, now)
		}
		return errorAnswer(http.StatusMethodNotAllowed, "Method not allowed")
	}
	id, err := strconv.ParseInt(segs[1], 10, 64)
	if err != nil {
		return errorAnswer(http.StatusNotFound, "Item not found.")
	}
	j := s.jobs[id]
	if j == nil {
		return errorAnswer(http.StatusNotFound, "Item not found.")
	}
	s.advance(j, now)
	if len(segs) == 3 {
		if r.Method != http.MethodGet {
			return errorAnswer(http.StatusMethodNotAllowed, "Method not allowed")
		}
		switch segs[2] {
		case "log":
			return j.logAnswer(now)
		case "variables":
			vars := j.Variables
			if vars == nil {
				vars = map[string]string{}
			}
			return &response{status: http.StatusOK, body: vars}
		}
		return errorAnswer(http.StatusNotFound, "Item not found.")
	}
	switch r.Method {
	case http.MethodGet:
		return j.jobAnswer(r, now)
	case http.MethodDelete:
		return s.stop(j, now)
	}
	return errorAnswer(http.StatusMethodNotAllowed, "Method not allowed")
}

// stop asks a job to stop: 200 with pending_stoppage, then stopped (after
// Lifecycle.StopDelay, or when the test says so). A job that has finished
// cannot be stopped (422); asking again while it stops changes nothing.
func (s *Server) stop(j *job, now time.Time) *response {
	switch {
	case j.Status.Terminal():
		return errorAnswer(http.StatusUnprocessableEntity, "Job %d is already %s and cannot be stopped", j.ID, j.Status)
	case j.Status == xplenty.StatusPendingStoppage || j.Status == xplenty.StatusStopping:
	default:
		j.enter(xplenty.StatusPendingStoppage, now)
		if j.auto {
			j.stopAt = now
		}
	}
	return &response{status: http.StatusOK, body: j.wire(now, false)}
}

// SetStatus puts a job in status st as of now, filling the timestamps that
// go with it (started_at for running; completed_at for any end; failed_at
// and a default error text for failed; progress 1 for completed), and takes
// it out of the automatic lifecycle. Any status is accepted, unknown ones
// included.
func (s *Server) SetStatus(id int64, st xplenty.Status) error {
	if st == "" {
		return fmt.Errorf("xplentytest: empty status for job %d", id)
	}
	return s.edit(id, func(j *job, now time.Time) {
		if st == xplenty.StatusFailed && j.Errors == "" {
			j.Errors = failureTexts[0]
		}
		j.enter(st, now)
	})
}

// SetProgress sets a job's progress (0 to 1) as of now and takes it out
// of the automatic lifecycle.
func (s *Server) SetProgress(id int64, p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("xplentytest: progress %v is not between 0 and 1", p)
	}
	return s.edit(id, func(j *job, now time.Time) {
		j.Progress = p
		j.touch(now)
	})
}

// SetErrors sets a job's errors text as of now and takes it out of the
// automatic lifecycle.
func (s *Server) SetErrors(id int64, text string) error {
	return s.edit(id, func(j *job, now time.Time) {
		j.Errors = text
		j.touch(now)
	})
}

// SetOutputs replaces a job's outputs as of now and takes it out of the
// automatic lifecycle. Outputs without an id get one, and a url and
// timestamps when they have none.
func (s *Server) SetOutputs(id int64, outs []xplenty.Output) error {
	return s.edit(id, func(j *job, now time.Time) {
		j.Outputs = make([]xplenty.Output, len(outs))
		for i, o := range outs {
			o = cloneOutput(o)
			if o.ID == 0 {
				o.ID = s.nextOutputID
				s.nextOutputID++
			}
			if o.URL == "" {
				o.URL = j.URL + "/outputs/" + strconv.FormatInt(o.ID, 10)
			}
			if o.CreatedAt == nil {
				o.CreatedAt = timePtr(now)
			}
			if o.UpdatedAt == nil {
				o.UpdatedAt = timePtr(now)
			}
			j.Outputs[i] = o
		}
		j.OutputsCount = len(outs)
		j.touch(now)
	})
}

func (s *Server) edit(id int64, change func(j *job, now time.Time)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[id]
	if j == nil {
		return fmt.Errorf("xplentytest: no job %d", id)
	}
	now := s.now()
	s.advance(j, now)
	j.auto = false
	change(j, now)
	return nil
}

// Job returns a copy of job id as of now.
func (s *Server) Job(id int64) (xplenty.Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[id]
	if j == nil {
		return xplenty.Job{}, false
	}
	now := s.now()
	s.advance(j, now)
	return j.snapshot(now), true
}

// Jobs returns a copy of every job as of now, by id.
func (s *Server) Jobs() []xplenty.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]xplenty.Job, len(s.order))
	for i, j := range s.order {
		s.advance(j, now)
		out[i] = j.snapshot(now)
	}
	return out
}

// CreateJob runs a job without an HTTP call (no budget spent, nothing
// recorded), checking the request like the API does: a quick way to fill
// the server for benchmarks.
func (s *Server) CreateJob(req xplenty.RunRequest) (xplenty.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	j, res := s.create(runParams{clusterID: req.ClusterID, packageID: req.PackageID, vars: req.Variables, dyn: req.DynamicVariables}, now)
	if res != nil {
		return xplenty.Job{}, fmt.Errorf("xplentytest: %d %v", res.status, res.body)
	}
	return j.snapshot(now), nil
}
