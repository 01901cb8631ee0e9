package slacktest

import (
	"context"
	"net/http"
)

// Hold makes the calls of method (a Web API method) wait before they are
// answered, until release is called. A call whose client goes away while
// held (its request cancelled, its process killed) is then carried out
// all the same and answered into the void, as Slack carries out a post
// whose answer is lost: the message is there, the caller never heard.
// Calls are recorded when answered. Held counts the calls waiting.
func (s *Server) Hold(method string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds == nil {
		s.holds, s.held = map[string]chan struct{}{}, map[string]int{}
	}
	gate, ok := s.holds[method]
	if !ok {
		gate = make(chan struct{})
		s.holds[method] = gate
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.holds[method] == gate {
			delete(s.holds, method)
			close(gate)
		}
	}
}

// Held returns how many calls of method are waiting in a hold.
func (s *Server) Held(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[method]
}

// WaitHeld waits until at least n calls of method are waiting in a hold.
func (s *Server) WaitHeld(ctx context.Context, method string, n int) error {
	return s.wait(ctx, func() bool { return s.held[method] >= n }, nil)
}

// waitHold keeps a call of method waiting while method is held, until the
// hold is released, the call's client goes away or the server closes.
func (s *Server) waitHold(r *http.Request, method string) {
	s.mu.Lock()
	gate, ok := s.holds[method]
	if ok {
		s.held[method]++
		s.notifyLocked()
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	select {
	case <-gate:
	case <-r.Context().Done():
	case <-s.done:
	}
	s.mu.Lock()
	s.held[method]--
	s.notifyLocked()
	s.mu.Unlock()
}
