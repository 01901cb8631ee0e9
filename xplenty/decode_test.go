package xplenty

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// seedExample is a Run Job answer as Xplenty documents it, made valid JSON
// (the documented example has trailing commas after each output and after
// the outputs list).
const seedExample = `{
    "id": 157,
    "status": "completed",
    "variables": {},
    "owner_id": 1,
    "progress": 1,
    "outputs_count": 2,
    "outputs": [
        {
            "component_name": "destination1",
            "created_at": "2013-03-04T07:17:51Z",
            "id": 521,
            "name": "projected_results",
            "records_count": 10415234,
            "updated_at": "2013-03-04T07:17:51Z",
            "url": "https://api.xplenty.com/xplenation/api/jobs/299/outputs/521"
        },
        {
            "component_name": "destination2",
            "created_at": "2013-03-04T07:14:44Z",
            "id": 522,
            "name": "projected_results2",
            "records_count": 423,
            "updated_at": "2013-03-04T07:14:44Z",
            "url": "https://api.xplenty.com/xplenation/api/jobs/299/outputs/522"
        }
    ],
    "started_at": "2012-12-30T14:21:29Z",
    "created_at": "2012-12-30T14:21:18Z",
    "failed_at": null,
    "updated_at": "2012-12-30T14:29:29Z",
    "cluster_id": 52,
    "package_id": 434,
    "errors": "",
    "url": "https://api.xplenty.com/xplenation/api/jobs/157",
    "runtime_in_seconds": 417,
    "completed_at": "2012-12-30T14:29:29Z"
}`

func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestJobUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Job
	}{
		{
			name: "seed example",
			in:   seedExample,
			want: Job{
				ID: 157, Status: StatusCompleted, Variables: map[string]string{}, OwnerID: 1, Progress: 1, OutputsCount: 2,
				Outputs: []Output{
					{ID: 521, Name: "projected_results", RecordsCount: 10415234, CreatedAt: ts("2013-03-04T07:17:51Z"), UpdatedAt: ts("2013-03-04T07:17:51Z"),
						URL: "https://api.xplenty.com/xplenation/api/jobs/299/outputs/521", ComponentName: "destination1"},
					{ID: 522, Name: "projected_results2", RecordsCount: 423, CreatedAt: ts("2013-03-04T07:14:44Z"), UpdatedAt: ts("2013-03-04T07:14:44Z"),
						URL: "https://api.xplenty.com/xplenation/api/jobs/299/outputs/522", ComponentName: "destination2"},
				},
				StartedAt: ts("2012-12-30T14:21:29Z"), CreatedAt: ts("2012-12-30T14:21:18Z"), UpdatedAt: ts("2012-12-30T14:29:29Z"),
				CompletedAt: ts("2012-12-30T14:29:29Z"), ClusterID: 52, PackageID: 434,
				URL: "https://api.xplenty.com/xplenation/api/jobs/157", RuntimeInSeconds: 417,
			},
		},
		{
			name: "failed job with errors, v2 outputs, creator and offsets",
			in: `{"id": 2001, "status": "failed", "progress": 0.35, "variables": {"DATE": "2026-11-01"},
				"dynamic_variables": {"NOW": "CurrentTime()"},
				"outputs": [{"id": 9, "name": "orders_clean", "records_count": 0,
					"component": {"name": "destination1", "type": "database_destination", "fields": ["id", "amount"]},
					"created_at": "2026-11-01T10:00:00+03:00", "updated_at": "2026-11-01T10:00:00.5+03:00", "url": "u", "preview_url": "p", "preview_type": "json"}],
				"outputs_count": 1,
				"started_at": "2026-11-01T10:00:00+03:00", "created_at": "2026-11-01T06:59:00Z",
				"failed_at": "2026-11-01T07:05:00Z", "updated_at": "2026-11-01T07:05:00Z", "completed_at": "2026-11-01T07:05:00Z",
				"cluster_id": 52, "package_id": 434,
				"errors": "Failed to read from source 'orders': Access denied for user 'etl'@'10.0.3.17'",
				"url": "https://api.xplenty.com/acme/api/jobs/2001", "html_url": "https://app.xplenty.com/acme/jobs/2001",
				"log_url": "https://api.xplenty.com/acme/api/jobs/2001/log", "runtime_in_seconds": 300,
				"creator": {"type": "User", "id": 7, "display_name": "Ada", "url": "cu", "html_url": "ch"}, "attempts": 1}`,
			want: Job{
				ID: 2001, Status: StatusFailed, Progress: 0.35,
				Variables: map[string]string{"DATE": "2026-11-01"}, DynamicVariables: map[string]string{"NOW": "CurrentTime()"},
				Outputs: []Output{{ID: 9, Name: "orders_clean", CreatedAt: ts("2026-11-01T07:00:00Z"), UpdatedAt: ts("2026-11-01T07:00:00.5Z"),
					URL: "u", PreviewURL: "p", PreviewType: "json", ComponentName: "destination1", ComponentType: "database_destination"}},
				OutputsCount: 1,
				StartedAt:    ts("2026-11-01T07:00:00Z"), CreatedAt: ts("2026-11-01T06:59:00Z"), FailedAt: ts("2026-11-01T07:05:00Z"),
				UpdatedAt: ts("2026-11-01T07:05:00Z"), CompletedAt: ts("2026-11-01T07:05:00Z"), ClusterID: 52, PackageID: 434,
				Errors: "Failed to read from source 'orders': Access denied for user 'etl'@'10.0.3.17'",
				URL:    "https://api.xplenty.com/acme/api/jobs/2001", HTMLURL: "https://app.xplenty.com/acme/jobs/2001",
				LogURL: "https://api.xplenty.com/acme/api/jobs/2001/log", RuntimeInSeconds: 300,
				Creator: &Creator{Type: "User", ID: 7, DisplayName: "Ada", URL: "cu", HTMLURL: "ch"}, Attempts: 1,
			},
		},
		{
			name: "stopped job, errors null, progress 0.0",
			in: `{"id": 3, "status": "stopped", "progress": 0.0, "errors": null, "variables": null,
				"started_at": "2026-11-01T07:00:00Z", "completed_at": "2026-11-01T07:01:00Z", "failed_at": null, "updated_at": "2026-11-01T07:01:00Z"}`,
			want: Job{ID: 3, Status: StatusStopped, StartedAt: ts("2026-11-01T07:00:00Z"), CompletedAt: ts("2026-11-01T07:01:00Z"),
				UpdatedAt: ts("2026-11-01T07:01:00Z")},
		},
		{
			name: "pending_stoppage with progress 1.0",
			in:   `{"id": 4, "status": "pending_stoppage", "progress": 1.0}`,
			want: Job{ID: 4, Status: StatusPendingStoppage, Progress: 1},
		},
		{
			name: "nulls and missing fields everywhere",
			in: `{"id": 5, "status": "idle", "progress": null, "outputs": null, "started_at": null, "created_at": null,
				"updated_at": null, "completed_at": null, "cluster_id": null, "url": null, "creator": null, "runtime_in_seconds": null}`,
			want: Job{ID: 5, Status: StatusIdle},
		},
		{
			name: "numeric, boolean and null variable values",
			in:   `{"id": 6, "status": "running", "variables": {"N": 42, "F": 1.5, "B": true, "Z": null, "S": "x", "L": [1, "a"], "O": {"k": 1}}}`,
			want: Job{ID: 6, Status: StatusRunning, Variables: map[string]string{"N": "42", "F": "1.5", "B": "true", "Z": "", "S": "x", "L": `[1,"a"]`, "O": `{"k":1}`}},
		},
		{
			name: "ids and numbers as strings, variables as empty list",
			in:   `{"id": "7", "status": "queued", "cluster_id": "52", "package_id": "434", "progress": "0.5", "runtime_in_seconds": 12.0, "variables": [], "outputs_count": "2"}`,
			want: Job{ID: 7, Status: StatusQueued, ClusterID: 52, PackageID: 434, Progress: 0.5, RuntimeInSeconds: 12, OutputsCount: 2},
		},
		{
			name: "unknown fields, embedded cluster and package, unknown status",
			in: `{"id": 8, "status": "warming_up", "cluster": {"id": 52, "name": "c", "nodes": 3}, "package": {"id": 434, "name": "p"},
				"brand_new_field": [1, 2, {"x": null}], "owner": {"id": 1}}`,
			want: Job{ID: 8, Status: "warming_up"},
		},
		{
			name: "errors as a list",
			in:   `{"id": 9, "status": "failed", "errors": ["source failed", "", "destination failed"]}`,
			want: Job{ID: 9, Status: StatusFailed, Errors: "source failed; destination failed"},
		},
		{
			name: "errors as an object (Rails validation errors), escapes decoded",
			in:   `{"id": 11, "status": "failed", "errors": {"base": ["source failed"], "cluster": ["is gone", "x\u0026y \"z\""]}}`,
			want: Job{ID: 11, Status: StatusFailed, Errors: `base: source failed; cluster: is gone; x&y "z"`},
		},
		{
			name: "errors as a list holding an object",
			in:   `{"id": 12, "status": "failed", "errors": ["source failed", {"detail": "a\u003cb"}]}`,
			want: Job{ID: 12, Status: StatusFailed, Errors: "source failed; detail: a<b"},
		},
		{
			name: "odd timestamps: no colon in offset, space separator, epoch seconds, garbage",
			in: `{"id": 10, "created_at": "2026-11-01T10:00:00+0300", "started_at": "2026-11-01 07:00:00Z",
				"updated_at": 1793516400, "completed_at": "yesterday", "failed_at": ""}`,
			want: Job{ID: 10, CreatedAt: ts("2026-11-01T07:00:00Z"), StartedAt: ts("2026-11-01T07:00:00Z"),
				UpdatedAt: ts(time.Unix(1793516400, 0).UTC().Format(time.RFC3339))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Job
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !jobsEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

// jobsEqual compares jobs with time.Time.Equal, so that the same instant
// written with another offset counts as equal.
func jobsEqual(a, b Job) bool {
	if !timesEqual(a.StartedAt, b.StartedAt) || !timesEqual(a.CreatedAt, b.CreatedAt) || !timesEqual(a.FailedAt, b.FailedAt) ||
		!timesEqual(a.UpdatedAt, b.UpdatedAt) || !timesEqual(a.CompletedAt, b.CompletedAt) || len(a.Outputs) != len(b.Outputs) {
		return false
	}
	for i := range a.Outputs {
		oa, ob := a.Outputs[i], b.Outputs[i]
		if !timesEqual(oa.CreatedAt, ob.CreatedAt) || !timesEqual(oa.UpdatedAt, ob.UpdatedAt) {
			return false
		}
		oa.CreatedAt, oa.UpdatedAt, ob.CreatedAt, ob.UpdatedAt = nil, nil, nil, nil
		if oa != ob {
			return false
		}
	}
	a.StartedAt, a.CreatedAt, a.FailedAt, a.UpdatedAt, a.CompletedAt, a.Outputs = nil, nil, nil, nil, nil, nil
	b.StartedAt, b.CreatedAt, b.FailedAt, b.UpdatedAt, b.CompletedAt, b.Outputs = nil, nil, nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestJobUnmarshalRejects(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"id is not a number", `{"id": "abc"}`, `"abc" is not an integer`},
		{"id is a boolean", `{"id": true}`, "not an integer"},
		{"progress is text", `{"id": 1, "progress": "half"}`, "not a number"},
		{"not an object", `[1]`, "job"},
		{"output is not an object", `{"id": 1, "outputs": [3]}`, "output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Job
			err := json.Unmarshal([]byte(tt.in), &got)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Unmarshal(%s) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestOutputUnmarshal(t *testing.T) {
	tests := []struct {
		name, in string
		want     Output
	}{
		{"v2 component", `{"id": 1, "name": "o", "component": {"name": "destination1", "type": "s3_destination", "fields": []}}`,
			Output{ID: 1, Name: "o", ComponentName: "destination1", ComponentType: "s3_destination"}},
		{"older component_name", `{"id": 2, "name": "o", "component_name": "destination2"}`,
			Output{ID: 2, Name: "o", ComponentName: "destination2"}},
		{"component as text", `{"id": 3, "component": "destination3"}`, Output{ID: 3, ComponentName: "destination3"}},
		{"component null", `{"id": 4, "component": null, "component_name": "d4"}`, Output{ID: 4, ComponentName: "d4"}},
		{"both: component wins", `{"id": 5, "component": {"name": "new"}, "component_name": "old"}`, Output{ID: 5, ComponentName: "new"}},
		{"records as text, unknown fields", `{"id": "6", "records_count": "10", "schema": {"x": 1}}`, Output{ID: 6, RecordsCount: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Output
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestJobRoundTrip checks that a Job written by encoding/json (as the
// notifier stores it) reads back the same.
func TestJobRoundTrip(t *testing.T) {
	var want Job
	if err := json.Unmarshal([]byte(seedExample), &want); err != nil {
		t.Fatal(err)
	}
	want.Outputs[0].ComponentType = "database_destination"
	want.Creator = &Creator{Type: "User", ID: 3, DisplayName: "x"}
	want.Variables = map[string]string{"A": "1"}
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got Job
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !jobsEqual(got, want) {
		t.Errorf("got  %s\nwant %s", dump(got), dump(want))
	}
}

func TestJobListUnmarshal(t *testing.T) {
	in := `[{"id": 1, "status": "running", "cluster": {"id": 52}, "package": {"id": 434, "variables": {"x": 1}}},
		{"id": 2, "status": "completed", "progress": 1}]`
	var got []Job
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != 1 || got[1].Status != StatusCompleted {
		t.Errorf("got %s", dump(got))
	}
}
