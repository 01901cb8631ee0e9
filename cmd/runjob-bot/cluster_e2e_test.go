package main

import (
	"context"
	"strings"
	"testing"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The whole bot on a Redis Cluster of three primaries, set up as an
// operator would (REDIS_MODE=cluster, REDIS_URL naming the seed nodes, the
// default REDIS_PREFIX), read by config.ParseRedis and reached through
// app.NewRedis: one /runjob goes from the command to exactly one thread
// reply, every key the bot wrote is under {runjob}: and in one hash slot,
// on one primary, and `runjob-bot audit` reads the trail through the same
// URL.
func TestE2EOnRedisCluster(t *testing.T) {
	cluster := redistest.StartCluster(t)
	rdb := cluster.Client() // before newE2E: its secret check at cleanup still has it
	e := newE2E(t, xplentytest.Options{})
	var err error
	if e.cfg.Redis, err = config.ParseRedis("cluster", cluster.URL()); err != nil {
		t.Fatal(err)
	}
	e.cfg.RedisPrefix = store.DefaultPrefix // the cluster is this test's own
	e.rdb = rdb
	e.startBot()

	e.command("U1", "C1", "cluster=52 package=434 DATE=2026-11-01 DB_PASSWORD="+secretValue)
	c := e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusRunning)
	e.waitCard(1001, "running")
	e.setStatus(1001, xplenty.StatusCompleted)
	e.waitCard(1001, "completed")
	e.waitReplies(c, 1)
	e.settle()
	if got := e.slack.ThreadReplies(c.Channel, c.TS); len(got) != 1 || !strings.Contains(got[0].Text, "completed") {
		t.Fatalf("%d thread replies, want 1 saying completed:\n%s", len(got), dump(got))
	}
	if n := e.runs(); n != 1 {
		t.Errorf("%d jobs started, want 1", n)
	}

	ctx := context.Background()
	keys, err := redistest.ScanKeys(ctx, rdb, "*")
	if err != nil {
		t.Fatal(err)
	}
	want, err := rdb.ClusterKeySlot(ctx, "{runjob}:").Result()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
		if !strings.HasPrefix(k, "{runjob}:") {
			t.Errorf("key %q is not under {runjob}:", k)
		}
		if slot, err := rdb.ClusterKeySlot(ctx, k).Result(); err != nil || slot != want {
			t.Errorf("key %q is in slot %d (%v), want %d", k, slot, err, want)
		}
	}
	for _, k := range []string{"{runjob}:job:1001", "{runjob}:outbox", "{runjob}:audit", "{runjob}:catalog:packages"} {
		if !seen[k] {
			t.Errorf("no key %s among the bot's keys %q", k, keys)
		}
	}
	holding := 0
	for i := range cluster.Servers {
		if n, err := cluster.NodeClient(i).DBSize(ctx).Result(); err != nil {
			t.Fatal(err)
		} else if n > 0 {
			holding++
		}
	}
	if holding != 1 {
		t.Errorf("%d primaries hold keys of the bot, want 1", holding)
	}

	setEnv(t, map[string]string{"REDIS_URL": cluster.URL(), "REDIS_PREFIX": store.DefaultPrefix})
	t.Setenv("REDIS_MODE", "cluster")
	var out, errOut strings.Builder
	if err := run(ctx, []string{"audit"}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("audit on the cluster: %v (%s)", err, errOut.String())
	}
	if got := out.String(); !strings.Contains(got, "1001") || !strings.Contains(got, "U1") {
		t.Errorf("audit on the cluster does not show the run:\n%s", got)
	}
}
