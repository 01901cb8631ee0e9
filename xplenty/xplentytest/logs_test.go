package xplentytest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
)

func TestLogSummaryAnswers(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	j := runForm(t, s, 434)
	other := runForm(t, s, 434)

	keys := func(path string) map[string]json.RawMessage {
		t.Helper()
		a := call(t, s, "GET", path, "", "", nil)
		if a.status != 200 {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(a.body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := keys("jobs/1001?include=log_summary"); string(m["log_summary"]) != "null" {
		t.Errorf("no summary set: log_summary = %s, want null", m["log_summary"])
	}

	created := time.Date(2026, 10, 31, 23, 5, 7, 500, time.FixedZone("", 3600))
	sum := xplenty.LogSummary{
		ID:           4321,
		ErrorSummary: "Warehouse table missing",
		Extract:      `relation "public.daily_totals" does not exist`,
		ActionItems:  []string{"Create the table.", "Run the job again."},
		Body:         "ERROR relation does not exist",
		CreatedAt:    &created,
	}
	if err := s.SetLogSummary(j.ID, sum); err != nil {
		t.Fatal(err)
	}
	sum.ActionItems[0] = "changed by the caller afterwards"

	if _, ok := keys("jobs/1001")["log_summary"]; ok {
		t.Error("without include the answer has a log_summary")
	}
	for _, path := range []string{"jobs/1001?include=log_summary", "jobs/1001?include=cluster,log_summary", "jobs/1001?include=package&include=log_summary"} {
		m := keys(path)
		var wire map[string]any
		if err := json.Unmarshal(m["log_summary"], &wire); err != nil {
			t.Fatalf("%s: log_summary %s: %v", path, m["log_summary"], err)
		}
		want := map[string]any{
			"id":             float64(4321),
			"error_summary":  "Warehouse table missing",
			"openai_extract": `relation "public.daily_totals" does not exist`,
			"action_items":   []any{"Create the table.", "Run the job again."},
			"body":           "ERROR relation does not exist",
			"created_at":     "2026-10-31T22:05:07Z",
		}
		if !reflect.DeepEqual(wire, want) {
			t.Errorf("%s: log_summary = %v, want %v", path, wire, want)
		}
		if string(m["id"]) != "1001" || string(m["status"]) != `"idle"` {
			t.Errorf("%s: job fields missing: id %s status %s", path, m["id"], m["status"])
		}
	}
	if m := keys("jobs/1002?include=log_summary"); string(m["log_summary"]) != "null" {
		t.Errorf("another job: log_summary = %s, want null", m["log_summary"])
	}

	// No id and no time: both are given; action items are [] on the wire.
	if err := s.SetLogSummary(other.ID, xplenty.LogSummary{ErrorSummary: "x"}); err != nil {
		t.Fatal(err)
	}
	a := call(t, s, "GET", "jobs/1002?include=log_summary", "", "", nil)
	var got struct {
		LogSummary struct {
			ID          int64           `json:"id"`
			ActionItems json.RawMessage `json:"action_items"`
			CreatedAt   time.Time       `json:"created_at"`
		} `json:"log_summary"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.LogSummary.ID != firstSummaryID || string(got.LogSummary.ActionItems) != "[]" || !got.LogSummary.CreatedAt.Equal(clk.Now()) {
		t.Errorf("defaults: %s", a.body)
	}

	if err := s.SetLogSummary(9999, sum); err == nil {
		t.Error("SetLogSummary on an unknown job: no error")
	}
	if snap, _ := s.Job(j.ID); snap.LogSummary != nil {
		t.Errorf("Job(%d) has a log summary: the summary is only served on request", j.ID)
	}
}

func TestSetLog(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	j := runForm(t, s, 434)
	readLog := func() (body, url string) {
		t.Helper()
		a := call(t, s, "GET", "jobs/1001/log", "", "", nil)
		var log map[string]string
		if err := json.Unmarshal(a.body, &log); err != nil || a.status != 200 || len(log) != 2 {
			t.Fatalf("log: %d %s, want {body, url}", a.status, a.body)
		}
		return log["body"], log["url"]
	}
	if body, url := readLog(); url != j.LogURL || body == "" {
		t.Errorf("log = %q at %q, want the written log at %q", body, url, j.LogURL)
	}
	const secret = "password=Zq8vK&w7 for 'etl'@'10.0.3.17'"
	if err := s.SetLog(j.ID, secret); err != nil {
		t.Fatal(err)
	}
	if body, url := readLog(); body != secret || url != j.LogURL {
		t.Errorf("log = %q at %q, want %q at %q", body, url, secret, j.LogURL)
	}
	if err := s.SetLog(j.ID, ""); err != nil {
		t.Fatal(err)
	}
	if body, _ := readLog(); body != "" {
		t.Errorf("log = %q after SetLog(\"\"), want empty", body)
	}
	if err := s.SetLog(9999, "x"); err == nil {
		t.Error("SetLog on an unknown job: no error")
	}
}
