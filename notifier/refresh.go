package notifier

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/runjob/runjob/xplenty"
)

// jobFault tells a failed read of one job that is that job's own problem
// from one that is the API's or the network's. The change list was read
// a moment before, in the same tick: an answer about this one job (a 403, a
// 5xx after the client's retries, a body that does not decode) is about the
// job, and must cost only the job. A 429 (the budget, shared by every job
// and every tool on the key, is spent), a 401 (the key was refused) and no
// answer at all (network, timeout) say nothing about the job: the watcher
// backs off as a whole, as it does when the list fails.
func jobFault(err error) bool {
	if xplenty.IsUndecodable(err) {
		return true
	}
	var er *xplenty.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	switch er.StatusCode {
	case http.StatusUnauthorized, http.StatusTooManyRequests:
		return false
	}
	return true
}

// readFailure says what went wrong in words safe for the job's thread: the
// HTTP status, never the answer's text (it may echo the job's variables).
func readFailure(err error) string {
	var er *xplenty.ErrorResponse
	if errors.As(err, &er) {
		return "HTTP " + strconv.Itoa(er.StatusCode) + " " + http.StatusText(er.StatusCode)
	}
	return "an answer I could not decode"
}
