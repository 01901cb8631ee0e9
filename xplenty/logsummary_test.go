package xplenty

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// failedWithSummary is a failed job with the log_summary object that GET
// /jobs/{id}?include=log_summary adds, in the documented shape (the
// values are made up).
const failedWithSummary = `{
    "id": 2048,
    "status": "failed",
    "errors": "Package failed to execute",
    "failed_at": "2025-03-02T08:14:09Z",
    "log_summary": {
        "id": 880412,
        "body": "2025-03-02T08:14:08Z ERROR destination 'crm_accounts': 401 Unauthorized",
        "error_summary": "CRM credentials rejected",
        "openai_extract": "Request to https://crm.example/api/accounts returned 401 Unauthorized: token expired",
        "action_items": [
            "Renew the CRM connection's token.",
            "Run the job again."
        ],
        "created_at": "2025-03-02T08:15:30Z"
    }
}`

func TestLogSummaryDecodes(t *testing.T) {
	var j Job
	if err := json.Unmarshal([]byte(failedWithSummary), &j); err != nil {
		t.Fatal(err)
	}
	if j.ID != 2048 || j.Status != StatusFailed || j.Errors != "Package failed to execute" {
		t.Errorf("job = %s", dump(j))
	}
	want := &LogSummary{
		ID:           880412,
		ErrorSummary: "CRM credentials rejected",
		Extract:      "Request to https://crm.example/api/accounts returned 401 Unauthorized: token expired",
		ActionItems:  []string{"Renew the CRM connection's token.", "Run the job again."},
		Body:         "2025-03-02T08:14:08Z ERROR destination 'crm_accounts': 401 Unauthorized",
		CreatedAt:    ts("2025-03-02T08:15:30Z"),
	}
	if !summariesEqual(j.LogSummary, want) {
		t.Errorf("LogSummary = %s\nwant         %s", dump(j.LogSummary), dump(want))
	}
}

func summariesEqual(a, b *LogSummary) bool {
	if a == nil || b == nil {
		return a == b
	}
	if !timesEqual(a.CreatedAt, b.CreatedAt) {
		return false
	}
	x, y := *a, *b
	x.CreatedAt, y.CreatedAt = nil, nil
	return reflect.DeepEqual(x, y)
}

// TestLogSummaryAbsent checks that a job without a usable summary decodes
// whole, with LogSummary nil.
func TestLogSummaryAbsent(t *testing.T) {
	for _, summary := range []string{``, `, "log_summary": null`, `, "log_summary": {}`,
		`, "log_summary": "none"`, `, "log_summary": 3`, `, "log_summary": []`, `, "log_summary": [{"id": 1}]`,
		`, "log_summary": {"id": null, "body": "", "action_items": []}`} {
		in := `{"id": 7, "status": "completed"` + summary + `}`
		var j Job
		if err := json.Unmarshal([]byte(in), &j); err != nil {
			t.Errorf("Unmarshal(%s): %v", in, err)
			continue
		}
		if j.ID != 7 || j.Status != StatusCompleted || j.LogSummary != nil {
			t.Errorf("Unmarshal(%s) = %s, want job 7 without a summary", in, dump(j))
		}
	}
}

// TestLogSummaryWrongTypes checks that a field of the wrong type leaves
// that field empty (or reads it as text, like the job's own fields) and
// keeps the job and the other fields.
func TestLogSummaryWrongTypes(t *testing.T) {
	tests := []struct {
		name, fields string
		want         LogSummary
	}{
		{"id as text", `"id": "77", "error_summary": "x"`, LogSummary{ID: 77, ErrorSummary: "x"}},
		{"id not a number", `"id": "abc", "error_summary": "x"`, LogSummary{ErrorSummary: "x"}},
		{"id an object", `"id": {"v": 1}, "error_summary": "x"`, LogSummary{ErrorSummary: "x"}},
		{"id out of range", `"id": 1e30, "error_summary": "x"`, LogSummary{ErrorSummary: "x"}},
		{"texts as numbers and booleans", `"error_summary": 42, "openai_extract": true, "body": 1.5`,
			LogSummary{ErrorSummary: "42", Extract: "true", Body: "1.5"}},
		{"texts null", `"id": 3, "error_summary": null, "openai_extract": null, "body": null`, LogSummary{ID: 3}},
		{"text as a list", `"error_summary": ["a", "b"]`, LogSummary{ErrorSummary: "a; b"}},
		{"action_items a single text", `"id": 1, "action_items": "Retry."`, LogSummary{ID: 1, ActionItems: []string{"Retry."}}},
		{"action_items mixed", `"id": 1, "action_items": ["Retry.", null, "", 2, true]`,
			LogSummary{ID: 1, ActionItems: []string{"Retry.", "2", "true"}}},
		{"action_items an object", `"id": 1, "action_items": {"a": "b"}`, LogSummary{ID: 1}},
		{"action_items null", `"id": 1, "action_items": null`, LogSummary{ID: 1}},
		{"action_items a number", `"id": 1, "action_items": 5`, LogSummary{ID: 1, ActionItems: []string{"5"}}},
		{"created_at not a time", `"id": 1, "created_at": "yesterday"`, LogSummary{ID: 1}},
		{"created_at an object", `"id": 1, "created_at": {}`, LogSummary{ID: 1}},
		{"created_at in seconds", `"id": 1, "created_at": 1736948081`, LogSummary{ID: 1, CreatedAt: ts("2025-01-15T13:34:41Z")}},
		{"created_at with an offset", `"id": 1, "created_at": "2025-01-15T15:34:41+02:00"`,
			LogSummary{ID: 1, CreatedAt: ts("2025-01-15T13:34:41Z")}},
		{"unknown fields", `"id": 1, "model": "gpt", "tokens": 812`, LogSummary{ID: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := `{"id": 9, "status": "failed", "log_summary": {` + tt.fields + `}, "progress": 0.5}`
			var j Job
			if err := json.Unmarshal([]byte(in), &j); err != nil {
				t.Fatalf("Unmarshal(%s): %v", in, err)
			}
			if j.ID != 9 || j.Status != StatusFailed || j.Progress != 0.5 {
				t.Errorf("job = %s", dump(j))
			}
			if !summariesEqual(j.LogSummary, &tt.want) {
				t.Errorf("LogSummary = %s, want %s", dump(j.LogSummary), dump(tt.want))
			}
		})
	}
}

func TestLogSummaryUnmarshalRejectsNonObjects(t *testing.T) {
	for _, in := range []string{`null`, `[]`, `"x"`, `1`} {
		var s LogSummary
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("Unmarshal(%s) = %s, want an error", in, dump(s))
		}
	}
}

// TestLogSummaryRoundTrip checks that a job stored with encoding/json
// reads back with its summary, and one without stays without.
func TestLogSummaryRoundTrip(t *testing.T) {
	var want Job
	if err := json.Unmarshal([]byte(failedWithSummary), &want); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got Job
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !summariesEqual(got.LogSummary, want.LogSummary) {
		t.Errorf("got  %s\nwant %s", dump(got.LogSummary), dump(want.LogSummary))
	}
	got.LogSummary, want.LogSummary = nil, nil
	if !jobsEqual(got, want) {
		t.Errorf("got  %s\nwant %s", dump(got), dump(want))
	}
	data, err = json.Marshal(Job{ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["log_summary"]; ok {
		t.Errorf("a job without a summary encodes as %s, want no log_summary", data)
	}
}

func TestGetJobWithLogSummary(t *testing.T) {
	var mu sync.Mutex
	var routes []string
	c, mux, _ := newTestClient(t, Config{OnResponse: func(method, route string, status int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		routes = append(routes, fmt.Sprint(method, " ", route, " ", status))
	}})
	var calls atomic.Int32
	var queries []string
	mux.HandleFunc("/prefix/acme/api/jobs/2048", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if calls.Add(1) == 1 {
			// Retried like GetJob.
			writeJSON(w, http.StatusBadGateway, `{"message": "bad gateway"}`)
			return
		}
		writeJSON(w, http.StatusOK, failedWithSummary)
	})
	job, err := c.GetJobWithLogSummary(context.Background(), 2048)
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != 2048 || job.LogSummary == nil || job.LogSummary.ErrorSummary != "CRM credentials rejected" ||
		len(job.LogSummary.ActionItems) != 2 {
		t.Errorf("job = %s", dump(job))
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"include=log_summary", "include=log_summary"}; !reflect.DeepEqual(queries, want) {
		t.Errorf("queries = %q, want %q", queries, want)
	}
	if want := []string{"GET /jobs/{id} 502", "GET /jobs/{id} 200"}; !reflect.DeepEqual(routes, want) {
		t.Errorf("observed %q, want %q", routes, want)
	}
}

func TestGetJobWithLogSummaryErrors(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	mux.HandleFunc("/prefix/acme/api/jobs/3", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"status": "failed", "log_summary": {"id": 1}}`)
	})
	if _, err := c.GetJobWithLogSummary(context.Background(), 0); err == nil {
		t.Error("id 0: no error")
	}
	_, err := c.GetJobWithLogSummary(context.Background(), 404)
	if !IsNotFound(err) {
		t.Errorf("unknown job: %v, want not found", err)
	}
	_, err = c.GetJobWithLogSummary(context.Background(), 3)
	if !IsUndecodable(err) {
		t.Errorf("answer without a job id: %v, want undecodable", err)
	}
	if err != nil && (strings.Contains(err.Error(), "include") || strings.Contains(err.Error(), "127.0.0.1")) {
		t.Errorf("error %q names the query or the host", err)
	}
}
