package xplenty

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// One job that does not decode (another tool's job with a number out of
// range, a field of the wrong type) must not cost the rest of the page:
// the others are returned and the bad ones are reported, without the
// job's text (its variables may hold secrets).
func TestListJobsSkipsUndecodableJobs(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	mux.HandleFunc("/prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[
			{"id": 1001, "status": "running", "progress": 0.5, "updated_at": "2026-11-28T12:00:00Z"},
			{"id": 1002, "status": "running", "runtime_in_seconds": 1e300, "variables": {"DB_PASSWORD": "hunter2"}},
			{"id": 1003, "status": "completed", "outputs": "not a list"},
			{"status": "failed", "id": 99999999999999999999999},
			{"id": 1005, "status": "failed"}
		]`)
	})
	page, err := c.ListJobs(context.Background(), ListOptions{Status: "all"})
	if err != nil {
		t.Fatalf("ListJobs: %v (one bad job failed the whole page)", err)
	}
	var ids []int64
	for _, j := range page.Jobs {
		ids = append(ids, j.ID)
	}
	if len(ids) != 2 || ids[0] != 1001 || ids[1] != 1005 {
		t.Errorf("jobs = %v, want 1001 and 1005", ids)
	}
	if len(page.Undecodable) != 3 {
		t.Fatalf("undecodable = %+v, want 3", page.Undecodable)
	}
	want := []UndecodableJob{{Index: 1, ID: 1002}, {Index: 2, ID: 1003}, {Index: 3, ID: 0}}
	for i, u := range page.Undecodable {
		if u.Index != want[i].Index || u.ID != want[i].ID || u.Err == nil {
			t.Errorf("undecodable[%d] = %+v, want index %d, id %d and an error", i, u, want[i].Index, want[i].ID)
			continue
		}
		if msg := u.Err.Error(); strings.Contains(msg, "hunter2") || strings.Contains(msg, "DB_PASSWORD") {
			t.Errorf("undecodable[%d] error repeats the job's variables: %s", i, msg)
		}
	}
}

// A page that is not a list at all is still the page's failure.
func TestListJobsRejectsAPageThatIsNotAList(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	mux.HandleFunc("/prefix/acme/api/jobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id": 1001}`)
	})
	if _, err := c.ListJobs(context.Background(), ListOptions{}); err == nil {
		t.Fatal("ListJobs accepted an object for a page")
	}
}

// A job answer that came whole but does not decode is told apart from a
// failure to reach the server: the watcher blames the job, not the network.
func TestGetJobUndecodableAnswer(t *testing.T) {
	c, mux, _ := newTestClient(t, Config{})
	mux.HandleFunc("/prefix/acme/api/jobs/1001", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id": 1001, "progress": "half"}`)
	})
	_, err := c.GetJob(context.Background(), 1001)
	if !IsUndecodable(err) || IsOutcomeUnknown(err) {
		t.Errorf("GetJob error = %v, want an undecodable answer (and no unknown outcome for a read)", err)
	}
	mux.HandleFunc("/prefix/acme/api/jobs/1002", func(w http.ResponseWriter, r *http.Request) { hangUp(t, w) })
	if _, err := c.GetJob(context.Background(), 1002); err == nil || IsUndecodable(err) {
		t.Errorf("GetJob error = %v for a dropped connection, want a failure that is not an undecodable answer", err)
	}
}
