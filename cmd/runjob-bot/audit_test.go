package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/store"
)

func TestAuditCommandPrintsRecentEntries(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	st, err := store.New(rdb, store.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, e := range []store.AuditEntry{
		{At: time.Now().Add(-48 * time.Hour), Action: "run", User: "U0OLD", Outcome: "started"},
		{Action: "run", User: "U1", Channel: "C1", ClusterID: 52, PackageID: 434, JobID: 1001,
			Variables: "cluster=52 package=434 DB_PASSWORD=••••", Outcome: "started"},
		{Action: "deny", User: "U9", Channel: "C1", ClusterID: 52, PackageID: 434, Outcome: "denied",
			Detail: "no rule lets you run package 434 on cluster 52"},
	} {
		if err := st.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	setEnv(t, map[string]string{"REDIS_URL": "redis://" + redistest.Addr(t, rdb) + "/0", "REDIS_PREFIX": prefix})
	var out, errOut strings.Builder
	if err := run(ctx, []string{"audit", "-since", "24h"}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("audit: %v (%s)", err, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"ACTION", "U1", "1001", "DB_PASSWORD=••••", "deny", "no rule lets you run"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "U0OLD") {
		t.Errorf("audit -since 24h printed an entry from two days ago:\n%s", got)
	}
}

// A stored field is someone's text: a carriage return, a line break, a
// terminal escape sequence or a bidi override in it must show as an escape,
// not act on the operator's terminal (a \r could forge a row).
func TestAuditCommandEscapesControlCharacters(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	st, err := store.New(rdb, store.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e := store.AuditEntry{
		Action: "run\x1b[2J", User: "U1\u202e", Channel: "C1\t", Preset: "nightly\x1b]8;;",
		JobID: 1001, Outcome: "started\u2028",
		Variables: "preset=nightly\x1b[2J DATE=2026-11-01\r2026-01-01 00:00:00  run  U0BOSS",
		Detail:    "ok\nforged row\u202eevil\\r",
	}
	if err := st.Audit(ctx, e); err != nil {
		t.Fatal(err)
	}
	setEnv(t, map[string]string{"REDIS_URL": "redis://" + redistest.Addr(t, rdb) + "/0", "REDIS_PREFIX": prefix})
	var out, errOut strings.Builder
	if err := run(ctx, []string{"audit"}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("audit: %v (%s)", err, errOut.String())
	}
	got := out.String()
	for _, bad := range []string{"\r", "\x1b", "\u202e", "\u2028"} {
		if strings.Contains(got, bad) {
			t.Errorf("audit output holds the raw control character %q:\n%s", bad, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 2 {
		t.Errorf("audit output has %d lines, want 2 (header and one entry):\n%s", n, got)
	}
	for _, want := range []string{`run\x1b[2J`, `U1\u202e`, `C1\t`, `started\u2028`,
		`DATE=2026-11-01\r2026-01-01`, `ok\nforged row\u202eevil\\r`} {
		if !strings.Contains(got, want) {
			t.Errorf("audit output lacks %s:\n%s", want, got)
		}
	}
}
