package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/notifier/redistest"
)

func TestAuditCommandPrintsRecentEntries(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	store, err := notifier.NewStore(rdb, notifier.StoreOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, e := range []notifier.AuditEntry{
		{At: time.Now().Add(-48 * time.Hour), Action: "run", User: "U0OLD", Outcome: "started"},
		{Action: "run", User: "U1", Channel: "C1", ClusterID: 52, PackageID: 434, JobID: 1001,
			Variables: "cluster=52 package=434 DB_PASSWORD=••••", Outcome: "started"},
		{Action: "deny", User: "U9", Channel: "C1", ClusterID: 52, PackageID: 434, Outcome: "denied",
			Detail: "no rule lets you run package 434 on cluster 52"},
	} {
		if err := store.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	setEnv(t, map[string]string{"REDIS_URL": "redis://" + rdb.Options().Addr + "/0", "REDIS_PREFIX": prefix})
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
