package xplenty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// ErrOutcomeUnknown marks a failed call that may nonetheless have taken
// effect: the request may have reached Xplenty, but no usable answer came
// back (a timeout or a dropped connection after the request was sent, a 5xx
// from a gateway, a 3xx redirect (never followed for a write), a 2xx whose
// body could not be read or decoded). For a run request it means the job
// may have started; look at the job list before trying again. Check with
// errors.Is or IsOutcomeUnknown.
//
// A clean refusal (a 4xx answer, or a connection that could not even be
// opened) never carries it. Reads (GET) never carry it: they change nothing.
var ErrOutcomeUnknown = errors.New("xplenty: outcome unknown, the request may have taken effect")

// ErrNoNextPage is returned by NextJobs when the page was the last one.
var ErrNoNextPage = errors.New("xplenty: no next page")

// ErrorResponse is a non-2xx answer from the Xplenty API. Its exported
// fields and its Error text are safe to log: they never hold the host, the
// API key, the Authorization header, or anything the server said.
//
// What the server said is kept apart, raw, in ServerMessage: Xplenty echoes
// request values in its messages ("bad value hunter2 for DB_PASSWORD"),
// and only the caller knows which of them are secret. Error leaves it out
// so that logging an error can never leak one; a caller that shows the
// message scrubs the job's secret values from it first, and only then
// collapses and shortens it (a secret cut by a length limit, or holding
// two spaces, could no longer be found).
type ErrorResponse struct {
	Method     string // HTTP method of the request, e.g. "POST"
	Path       string // escaped request path without scheme, host or query, e.g. "/acme/api/jobs/157"
	StatusCode int    // HTTP status code of the answer
	// message is the body's "message", else its "error" or "errors",
	// else the text of a JSON body, else the body itself, as sent (bounded
	// by maxMessageLen for memory only). JSON is read as text, escapes
	// decoded, so a secret's echo is the value the scrubber looks for.
	message string
}

func (e *ErrorResponse) Error() string {
	s := fmt.Sprintf("xplenty: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		s += " " + text
	}
	return s
}

// ServerMessage is what the server said, raw and untrusted: it may echo
// the request's secret values and hold any character. Scrub it before it
// is logged, stored or shown; "" when the server said nothing.
func (e *ErrorResponse) ServerMessage() string { return e.message }

// IsNotFound reports whether err is, or wraps, a 404 answer: an unknown
// job, cluster or package.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsUnauthorized reports whether err is, or wraps, a 401 answer: the API
// key was refused.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsInvalid reports whether err is, or wraps, a 422 answer: invalid fields,
// e.g. a package that does not exist on the account, or stopping a job that
// has already finished.
func IsInvalid(err error) bool { return hasStatus(err, http.StatusUnprocessableEntity) }

// IsRateLimited reports whether err is, or wraps, a 429 answer: the hourly
// call budget is spent.
func IsRateLimited(err error) bool { return hasStatus(err, http.StatusTooManyRequests) }

// IsOutcomeUnknown reports whether err says that the failed call may have
// taken effect all the same; see ErrOutcomeUnknown.
func IsOutcomeUnknown(err error) bool { return errors.Is(err, ErrOutcomeUnknown) }

func hasStatus(err error, code int) bool {
	var er *ErrorResponse
	return errors.As(err, &er) && er.StatusCode == code
}

// outcomeUnknownError adds ErrOutcomeUnknown to an error while keeping the
// original (an *ErrorResponse, a transport error) reachable with errors.As.
type outcomeUnknownError struct{ err error }

func (e *outcomeUnknownError) Error() string {
	return e.err.Error() + " (outcome unknown: the request may have taken effect)"
}

func (e *outcomeUnknownError) Unwrap() []error { return []error{e.err, ErrOutcomeUnknown} }

func outcomeUnknown(err error) error { return &outcomeUnknownError{err: err} }

// maxMessageLen bounds ErrorResponse's message, for memory only: an HTML
// error page from a gateway is kept whole up to this size. Callers shorten
// what they show after scrubbing it, never before.
const maxMessageLen = 64 << 10

// errorMessage extracts the server's message from an error body.
func errorMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil {
		for _, key := range []string{"message", "error", "errors"} {
			if msg := messageText(obj[key]); msg != "" {
				return msg
			}
		}
	}
	if (body[0] == '{' || body[0] == '[') && json.Valid(body) {
		// Some other shape: its text, escapes decoded, rather than its
		// JSON, whose escapes would hide a secret's echo from the scrubber.
		if msg, err := plainText(body); err == nil && strings.TrimSpace(msg) != "" {
			return strings.TrimSpace(msg)
		}
	}
	var s string
	if json.Unmarshal(body, &s) == nil {
		return strings.TrimSpace(s)
	}
	if !utf8.Valid(body) {
		return ""
	}
	return string(body)
}

// messageText reads a message field that may be text, a list of texts, an
// object with its own message ({"error": {"message": "..."}}), or any other
// list or object (read as plainText).
func messageText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var t jsonText
	raw = bytes.TrimSpace(raw)
	if raw[0] == '{' {
		var nested struct {
			Message jsonText `json:"message"`
		}
		if json.Unmarshal(raw, &nested) == nil && nested.Message != "" {
			return strings.TrimSpace(string(nested.Message))
		}
	}
	if t.UnmarshalJSON(raw) != nil {
		return ""
	}
	return strings.TrimSpace(string(t))
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
