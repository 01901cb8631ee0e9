package store

import (
	"context"
	"strings"
	"testing"

	"github.com/runjob/runjob/notifier/redistest"
)

// A failure summary is kept scrubbed: the secret value appears in no key,
// in the summary or in any of the action items.
func TestLogSummaryKeptScrubbed(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	s, err := New(rdb, Options{Prefix: prefix, SecretKey: []byte("api-key-1")})
	if err != nil {
		t.Fatal(err)
	}
	r := testRecord(1001)
	r.SecretNames = []string{"DB_PASSWORD"}
	if err := s.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	items := []string{"Check hunter2.", "x hunter2 y"}
	if err := s.SetLogSummary(ctx, 1001, "login with hunter2 refused", items); err != nil {
		t.Fatal(err)
	}
	for k, v := range rdb.HGetAll(ctx, s.keys.Job(1001)).Val() {
		if strings.Contains(v, "hunter2") {
			t.Errorf("field %s holds the secret in clear: %q", k, v)
		}
	}
	got, err := s.Get(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if got.ErrorSummary == "" || strings.Contains(got.ErrorSummary, "hunter2") || len(got.ActionItems) != 2 {
		t.Errorf("kept %q %q", got.ErrorSummary, got.ActionItems)
	}
}

// When the job's secrets cannot be opened (the key was rotated away), a
// summary that is only action items must not turn into the "not kept"
// sentence repeated once per item: the items are withheld like the
// summary would be, and said once at most.
func TestLogSummaryWithheldItemsNotRepeated(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	s, err := New(rdb, Options{Prefix: prefix, SecretKey: []byte("api-key-1")})
	if err != nil {
		t.Fatal(err)
	}
	r := testRecord(1001)
	r.SecretNames = []string{"DB_PASSWORD"}
	if err := s.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	other, _ := New(rdb, Options{Prefix: prefix, SecretKey: []byte("api-key-2")})
	if err := other.SetLogSummary(ctx, 1001, "", []string{"Check hunter2.", "Retry.", "Call ops.", "a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
	got, err := other.Get(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range got.ActionItems {
		if it == errorsWithheld {
			n++
		}
	}
	if n > 1 {
		t.Errorf("the withheld sentence is kept %d times as action items: %q", n, got.ActionItems)
	}
}
