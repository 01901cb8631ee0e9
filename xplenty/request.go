package xplenty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// The one request path every call goes through: build the request, send it,
// retry what the method allows, read and decode the answer, and turn every
// failure into an error that names the call but never the host or the key.

// call describes one API call for do.
type call struct {
	method string
	route  string   // template for OnResponse, e.g. "/jobs/{id}"
	u      *url.URL // absolute, without user info
	form   url.Values
	// json, when set (and form is not), is sent as an application/json
	// body.
	json []byte
	out  any // decoded from a 2xx body when non-nil
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
		wait := c.backoff(attempt, retryBase)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// ctx would end before the wait is over: waiting is pointless.
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
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

// once makes one HTTP exchange. A positive retryBase means the failure may
// be retried with that backoff base.
func (c *Client) once(ctx context.Context, cl *call) (h http.Header, retryBase time.Duration, err error) {
	var body io.Reader
	switch {
	case cl.form != nil:
		body = strings.NewReader(cl.form.Encode())
	case cl.json != nil:
		body = bytes.NewReader(cl.json)
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
	switch {
	case cl.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case cl.json != nil:
		req.Header.Set("Content-Type", "application/json")
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
