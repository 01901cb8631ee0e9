package xplenty

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// LogSummary is the diagnosis Xplenty adds to a failed job when asked
// with include=log_summary (see Client.GetJobWithLogSummary): a short
// error summary, an extract of the log and what to do about it.
//
// Body and Extract are taken from the job's log and may hold whatever the
// log holds, secrets included: scrub them before showing them.
type LogSummary struct {
	ID           int64  `json:"id"`
	ErrorSummary string `json:"error_summary"`
	// Extract is the part of the log the summary was made from
	// (openai_extract on the wire).
	Extract string `json:"openai_extract"`
	// ActionItems are the suggested next steps, in order.
	ActionItems []string   `json:"action_items,omitempty"`
	Body        string     `json:"body"`
	CreatedAt   *time.Time `json:"created_at"`
}

// IsZero reports whether s holds nothing at all.
func (s *LogSummary) IsZero() bool {
	return s.ID == 0 && s.ErrorSummary == "" && s.Extract == "" && len(s.ActionItems) == 0 &&
		s.Body == "" && s.CreatedAt == nil
}

// UnmarshalJSON decodes a log summary object field by field: a field that
// cannot be read (the wrong type, a number out of range) is left empty and
// the others are kept, because the summary only explains a failure and
// must never hide the job it comes with. Only a value that is not an
// object at all is an error.
func (s *LogSummary) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return errors.New("log summary: not an object")
	}
	var (
		id        jsonInt
		errText   jsonText
		extract   jsonText
		body      jsonText
		createdAt jsonTime
	)
	for _, f := range []struct {
		name string
		dst  json.Unmarshaler
	}{
		{"id", &id},
		{"error_summary", &errText},
		{"openai_extract", &extract},
		{"body", &body},
		{"created_at", &createdAt},
	} {
		if v, ok := raw[f.name]; ok {
			_ = f.dst.UnmarshalJSON(v) // a field that cannot be read stays empty
		}
	}
	*s = LogSummary{
		ID:           int64(id),
		ErrorSummary: string(errText),
		Extract:      string(extract),
		ActionItems:  actionItems(raw["action_items"]),
		Body:         string(body),
		CreatedAt:    createdAt.t,
	}
	return nil
}

// actionItems reads a list of steps: a list of texts (numbers and booleans
// as their JSON text, empty items and nulls left out), or a single text as
// a list of one. Anything else is no steps.
func actionItems(b json.RawMessage) []string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	var one jsonText
	if b[0] != '[' {
		if b[0] == '{' || one.UnmarshalJSON(b) != nil || one == "" {
			return nil
		}
		return []string{string(one)}
	}
	var items []json.RawMessage
	if json.Unmarshal(b, &items) != nil {
		return nil
	}
	var out []string
	for _, item := range items {
		var t jsonText
		if t.UnmarshalJSON(item) == nil && t != "" {
			out = append(out, string(t))
		}
	}
	return out
}

// decodeLogSummary reads a job's log_summary: nil when it is absent, null,
// not an object or empty, so that the job decodes whatever it holds.
func decodeLogSummary(b json.RawMessage) *LogSummary {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var s LogSummary
	if json.Unmarshal(b, &s) != nil || s.IsZero() {
		return nil
	}
	return &s
}
