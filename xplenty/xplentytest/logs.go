package xplentytest

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// A job's log and its log summary: GET /jobs/{id}/log answers
// {"body","url"}, and GET /jobs/{id}?include=log_summary adds a
// log_summary object to the job (null when the job has none).

// firstSummaryID is the id the first log summary set without one gets.
const firstSummaryID = 9001

// SetLog sets the body GET /jobs/{id}/log answers for a job, in place of
// the log the server writes from the job's history, and takes the job out
// of the automatic lifecycle. The body is served as it is, so a test can
// put in it a value that must not leak further.
func (s *Server) SetLog(id int64, body string) error {
	return s.edit(id, func(j *job, now time.Time) {
		j.log = &body
	})
}

// SetLogSummary sets the log summary GET /jobs/{id}?include=log_summary
// adds to a job, and takes the job out of the automatic lifecycle. A
// summary without an id gets one, and without created_at the current
// time. The job itself is not changed (its updated_at included).
func (s *Server) SetLogSummary(id int64, sum xplenty.LogSummary) error {
	return s.edit(id, func(j *job, now time.Time) {
		sum.ActionItems = slices.Clone(sum.ActionItems)
		sum.CreatedAt = copyTime(sum.CreatedAt)
		if sum.ID == 0 {
			if s.nextSummaryID == 0 {
				s.nextSummaryID = firstSummaryID
			}
			sum.ID = s.nextSummaryID
			s.nextSummaryID++
		}
		if sum.CreatedAt == nil {
			sum.CreatedAt = timePtr(now)
		}
		j.summary = &sum
	})
}

// logAnswer is the answer to GET /jobs/{id}/log: the log set with SetLog,
// else one written from the job's history, and the log's address.
func (j *job) logAnswer(now time.Time) *response {
	body := j.logText(now)
	if j.log != nil {
		body = *j.log
	}
	return &response{status: http.StatusOK, body: map[string]string{"body": body, "url": j.LogURL}}
}

// jobAnswer is the answer to GET /jobs/{id}: the job, with its log_summary
// (null when it has none) when the query asks for it with
// include=log_summary (one of a comma-separated list).
func (j *job) jobAnswer(r *http.Request, now time.Time) *response {
	w := j.wire(now, false)
	if !includes(r, "log_summary") {
		return &response{status: http.StatusOK, body: w}
	}
	return &response{status: http.StatusOK, body: wireJobWithSummary{wireJob: w, LogSummary: wireSummary(j.summary)}}
}

// includes reports whether the request's include parameters name what.
func includes(r *http.Request, what string) bool {
	for _, v := range r.URL.Query()["include"] {
		for part := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(part) == what {
				return true
			}
		}
	}
	return false
}

// wireJobWithSummary is a job as GET /jobs/{id}?include=log_summary
// writes it.
type wireJobWithSummary struct {
	wireJob
	LogSummary *wireLogSummary `json:"log_summary"`
}

// wireLogSummary is a log summary as the API writes it.
type wireLogSummary struct {
	ID           int64      `json:"id"`
	Body         string     `json:"body"`
	ErrorSummary string     `json:"error_summary"`
	Extract      string     `json:"openai_extract"`
	ActionItems  []string   `json:"action_items"`
	CreatedAt    *time.Time `json:"created_at"`
}

// wireSummary renders a summary for an answer; the answer is encoded after
// the lock is released, so the list is copied.
func wireSummary(sum *xplenty.LogSummary) *wireLogSummary {
	if sum == nil {
		return nil
	}
	items := slices.Clone(sum.ActionItems)
	if items == nil {
		items = []string{}
	}
	return &wireLogSummary{
		ID:           sum.ID,
		Body:         sum.Body,
		ErrorSummary: sum.ErrorSummary,
		Extract:      sum.Extract,
		ActionItems:  items,
		CreatedAt:    wireTime(sum.CreatedAt),
	}
}
