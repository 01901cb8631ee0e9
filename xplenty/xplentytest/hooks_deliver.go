package xplentytest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// Delivering web hooks: when a job enters a status that has an event, each
// active web hook listening for it gets a POST of the job (the API's JSON
// of it; the real wrapper is not documented), with its HTTP Basic
// credentials, from one goroutine, in order. With a Lifecycle, that
// goroutine also moves the jobs on every lifecyclePoll, so that their
// changes are announced when they happen rather than when they are next
// read.

// lifecyclePoll is how often, with a Lifecycle and a hook, the jobs are
// moved on without being read.
const lifecyclePoll = 100 * time.Millisecond

// hookTimeout bounds one delivery.
const hookTimeout = 5 * time.Second

// statusEvents are the hook events of the statuses that have one.
var statusEvents = map[xplenty.Status]string{
	xplenty.StatusIdle:      "job.submitted",
	xplenty.StatusRunning:   "job.started",
	xplenty.StatusStopped:   "job.stopped",
	xplenty.StatusCompleted: "job.completed",
	xplenty.StatusFailed:    "job.failed",
}

// HookDelivery is one POST the server made, or tried, to a web hook.
type HookDelivery struct {
	HookID int64
	Event  string // e.g. "job.completed"
	JobID  int64
	URL    string
	// At is when the job changed (Options.Now).
	At time.Time
	// Status is the answer's status code; 0 when none came, and Err says
	// why.
	Status int
	Err    string
}

type pendingDelivery struct {
	HookDelivery
	user, password string
	body           []byte
}

// hookEvent queues the event of j entering st for every web hook listening
// for it. It is called with s.mu held, by job.enter and when a job is run.
func (s *Server) hookEvent(j *job, st xplenty.Status, at time.Time) {
	event, ok := statusEvents[st]
	if !ok || len(s.hooks.order) == 0 {
		return
	}
	var body []byte
	for _, h := range s.hooks.order {
		if !h.listensTo(event) {
			continue
		}
		if body == nil {
			body, _ = json.Marshal(j.wire(at, false))
		}
		s.hooks.pending = append(s.hooks.pending, pendingDelivery{
			HookDelivery: HookDelivery{HookID: h.id, Event: event, JobID: j.ID, URL: h.url, At: at},
			user:         h.user, password: h.password, body: body,
		})
	}
	if body != nil {
		select {
		case s.hooks.wake <- struct{}{}:
		default:
		}
	}
}

// startDeliverer starts the goroutine that delivers hooks, once; s.mu is
// held.
func (s *Server) startDeliverer() {
	if s.hooks.running {
		return
	}
	s.hooks.running = true
	s.hooks.wake = make(chan struct{}, 1)
	go s.deliverHooks(s.hooks.wake)
}

func (s *Server) deliverHooks(wake <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.closed:
		case <-ctx.Done():
		}
		cancel()
	}()
	client := &http.Client{Timeout: hookTimeout}
	var tick <-chan time.Time
	if s.lc != nil {
		t := time.NewTicker(lifecyclePoll)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			s.advanceAll()
		case <-wake:
		}
		s.mu.Lock()
		batch := s.hooks.pending
		s.hooks.pending = nil
		s.mu.Unlock()
		for _, d := range batch {
			s.deliver(ctx, client, d)
		}
	}
}

// advanceAll moves every job on to now (Lifecycle).
func (s *Server) advanceAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, j := range s.order {
		s.advance(j, now)
	}
}

func (s *Server) deliver(ctx context.Context, client *http.Client, d pendingDelivery) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "xplentytest-hooks")
		if d.user != "" {
			req.SetBasicAuth(d.user, d.password)
		}
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			d.Status = resp.StatusCode
		}
	}
	if err != nil {
		d.Err = err.Error()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.hooks.done) >= s.keep {
		s.hooks.done = slices.Delete(s.hooks.done, 0, len(s.hooks.done)-s.keep+1)
	}
	s.hooks.done = append(s.hooks.done, d.HookDelivery)
}

// HookDeliveries returns the deliveries made so far, oldest first (at most
// Options.KeepRequests, the latest).
func (s *Server) HookDeliveries() []HookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hooks.done)
}
