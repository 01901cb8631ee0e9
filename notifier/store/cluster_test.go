package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/xplenty"
)

func TestHashTag(t *testing.T) {
	for key, want := range map[string]string{
		"runjob:job:1":      "",
		"{runjob}:job:1":    "runjob",
		"app{x}:job:{1}":    "x", // the first tag only
		"{}runjob:job:1":    "",  // empty: the whole key is hashed
		"run{job:1":         "",
		"run}{job}:1":       "job",
		"{a{b}c}":           "a{b",
		"{runjob:job:1}:1}": "runjob:job:1",
	} {
		if got := HashTag(key); got != want {
			t.Errorf("HashTag(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestEffectivePrefix(t *testing.T) {
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	single := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer single.Close()
	failover := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}})
	defer failover.Close()
	seen := map[string]string{} // what each prefix without a tag became
	for _, c := range []struct{ prefix, onCluster string }{
		{"runjob:", "{runjob}:"},
		{"::", "{:}:"},
		{"team-a:runjob:", "{team-a:runjob}:"},
		{"runjob", "{runjob}"},         // not "{runjob}:", the keys of "runjob:"
		{"{runjob}:", "{runjob}:"},     // tagged already: kept
		{"app{blue}:", "app{blue}:"},   // tagged already: kept
		{"{}runjob:", "{{}runjob}:"},   // an empty tag is no tag
		{"run{job:", "{run{job}:"},     // an open brace alone is no tag
		{":", "{:}"},                   // never the empty tag "{}"
		{"{runjob}", "{runjob}"},       // kept as given
		{"a:{b}:c:", "a:{b}:c:"},       // kept as given
		{"x{}y{z}:", "{x{}y{z}}:"},     // the first '{' decides: no tag
		{"runjob:{", "{runjob:{}"},     // tag "runjob:{"
		{"run job:", "{run job}:"},     // any byte may be in a tag
		{"{runjob}:x:", "{runjob}:x:"}, // kept
	} {
		if got := EffectivePrefix(cluster, c.prefix); got != c.onCluster {
			t.Errorf("on a cluster, %q becomes %q, want %q", c.prefix, got, c.onCluster)
		}
		if on := EffectivePrefix(cluster, c.prefix); HashTag(c.prefix) == "" && seen[on] != "" {
			t.Errorf("on a cluster, %q and %q both become %q: their keys are the same", seen[on], c.prefix, on)
		} else if HashTag(c.prefix) == "" {
			seen[on] = c.prefix
		}
		if HashTag(EffectivePrefix(cluster, c.prefix)+"job:1") == "" {
			t.Errorf("on a cluster, the keys of %q have no hash tag", c.prefix)
		}
		for name, rdb := range map[string]redis.UniversalClient{"one server": single, "sentinel": failover} {
			if got := EffectivePrefix(rdb, c.prefix); got != c.prefix {
				t.Errorf("on %s, %q becomes %q, want it kept", name, c.prefix, got)
			}
		}
	}
}

// A prefix that starts with '}' and has no tag cannot be given one by
// braces ("{}…" is no tag): on a Cluster the store refuses it, rather than
// spread the keys over slots where every script fails with CROSSSLOT.
func TestNewRefusesAPrefixWithoutATagOnACluster(t *testing.T) {
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	for _, p := range []string{"}", "}:", "}runjob:", "}runjob"} {
		if _, err := New(cluster, Options{Prefix: p}); err == nil || !strings.Contains(err.Error(), "hash tag") {
			t.Errorf("prefix %q on a cluster: err = %v, want it refused for lack of a hash tag", p, err)
		}
	}
	if _, err := New(cluster, Options{Prefix: "}{runjob}:"}); err != nil {
		t.Errorf("a prefix with a tag after a '}': %v", err)
	}
	single := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer single.Close()
	if _, err := New(single, Options{Prefix: "}"}); err != nil {
		t.Errorf("prefix \"}\" on one server: %v", err)
	}
}

// everyKey calls each method of Keys that names a key, with arguments
// that look real, so a key added later is covered too.
func everyKey(t *testing.T, k Keys) []string {
	t.Helper()
	var keys []string
	v := reflect.ValueOf(k)
	for i := range v.NumMethod() {
		m := v.Method(i)
		mt := m.Type()
		if mt.NumOut() != 1 || mt.Out(0).Kind() != reflect.String {
			continue
		}
		var args []reflect.Value
		for j := range mt.NumIn() {
			in := mt.In(j)
			switch {
			case in == reflect.TypeOf(xplenty.Status("")):
				args = append(args, reflect.ValueOf(xplenty.StatusFailed))
			case in == reflect.TypeOf(CatalogKind("")):
				args = append(args, reflect.ValueOf(CatalogPackages))
			case in.Kind() == reflect.Int64:
				args = append(args, reflect.ValueOf(int64(1001)).Convert(in))
			case in.Kind() == reflect.String:
				args = append(args, reflect.ValueOf("C0123{x}").Convert(in)) // braces in a part change nothing
			default:
				t.Fatalf("Keys.%s takes a %s: teach everyKey about it", v.Type().Method(i).Name, in)
			}
		}
		keys = append(keys, m.Call(args)[0].String())
	}
	if len(keys) < 20 {
		t.Fatalf("only %d keys found", len(keys))
	}
	return keys
}

// On a Redis Cluster the default prefix becomes a hash tag: every key of
// the bot hashes to one slot, as Redis computes it, so every script,
// transaction and pipeline of the store runs (no CROSSSLOT), and after the
// store's basic paths all its keys sit on one primary.
func TestStoreOnClusterKeepsEveryKeyInOneSlot(t *testing.T) {
	c := redistest.StartCluster(t)
	rdb := c.Client()
	s, err := New(rdb, Options{}) // the cluster is this test's own: the default prefix
	if err != nil {
		t.Fatal(err)
	}
	if s.keys.prefix != "{runjob}:" {
		t.Fatalf("prefix on a cluster = %q, want {runjob}:", s.keys.prefix)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want, err := rdb.ClusterKeySlot(ctx, "runjob").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range everyKey(t, s.keys) {
		if slot, err := rdb.ClusterKeySlot(ctx, k).Result(); err != nil || slot != want {
			t.Errorf("key %s is in slot %d (%v), want %d", k, slot, err, want)
		}
	}

	exerciseStore(t, s, 3001, "on the cluster")
	exerciseRest(t, s)
	keys, err := redistest.ScanKeys(ctx, rdb, "*")
	if err != nil || len(keys) < 3 {
		t.Fatalf("keys on the cluster: %q, %v", keys, err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "{runjob}:") {
			t.Errorf("key %q is not under {runjob}:", k)
		}
	}
	holding := 0
	for i := range c.Servers {
		n, err := c.NodeClient(i).DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			holding++
		}
	}
	if holding != 1 {
		t.Errorf("%d primaries hold keys of the bot, want 1", holding)
	}
}

// exerciseRest runs, once each, the paths of the store that exerciseStore
// and the suites re-run on a cluster (TestSuiteOnCluster) reach least: a
// launch tracked with its intent (the script with the most keys), the
// audit trail, a budget, the queue depths, a contest, notify settings (a
// transaction), the catalog, the history, the outbox's consumers.
func exerciseRest(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	in := Intent{Channel: "C1", CardTS: "1700000000.000200", Requester: "U1", Asked: s.now()}
	check("save intent", s.SaveIntent(ctx, in))
	r := testRecord(3002)
	r.CardTS = in.CardTS
	check("track launch", s.TrackLaunch(ctx, r, in.ID()))
	if left, err := s.StaleIntents(ctx, s.now().Add(time.Hour), 10); err != nil || len(left) != 0 {
		t.Fatalf("intents after the launch is tracked: %v, %v", left, err)
	}
	check("audit", s.Audit(ctx, AuditEntry{Action: "run", User: "U1", Channel: "C1", JobID: 3002, Outcome: "started"}))
	if got, err := s.AuditSince(ctx, s.now().Add(-time.Hour), 10); err != nil || len(got) != 1 || got[0].JobID != 3002 {
		t.Fatalf("audit trail: %+v, %v", got, err)
	}
	_, err := s.TakeBudget(ctx, "update", time.Second, 5, false)
	check("take budget", err)
	check("pause budget", s.PauseBudget(ctx, "update", time.Second))
	_, err = s.Queues(ctx)
	check("queue depths", err)
	check("contest", s.Contest(ctx, 3003))
	if ok, err := s.Contested(ctx, 3003); err != nil || !ok {
		t.Fatalf("contested: %v, %v", ok, err)
	}
	if _, after, err := s.SetNotify(ctx, "C1", commands.Notify{Level: commands.NotifyFailures}); err != nil || after.Level != commands.NotifyFailures {
		t.Fatalf("set notify: %+v, %v", after, err)
	}
	check("catalog put", s.CatalogPut(ctx, CatalogPackages, []byte("[]"), time.Minute))
	if turn, err := s.CatalogRefreshTurn(ctx, CatalogPackages, time.Minute); err != nil || !turn {
		t.Fatalf("catalog refresh turn: %v, %v", turn, err)
	}
	_, err = s.History(ctx, 52, 434)
	check("history", err)
	_, _, err = s.ClaimOutbox(ctx, "replica-b", 0, "0", 10)
	check("claim outbox", err)
	_, err = s.OutboxConsumers(ctx)
	check("outbox consumers", err)
	check("remove outbox consumer", s.RemoveOutboxConsumer(ctx, "replica-b"))
	check("wake", s.Wake(ctx))
}

// A wake-up published on any primary of the cluster (a replica's client
// may send its PUBLISH to any of them) reaches a listener subscribed
// through the cluster client: Redis Cluster passes PUBLISH to every node.
func TestWakeOnClusterIsHeardFromEveryNode(t *testing.T) {
	c := redistest.StartCluster(t)
	s, err := New(c.Client(), Options{Prefix: redistest.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wakes, err := s.Wakes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Once the cluster is formed its nodes are linked, and a PUBLISH on any
	// of them goes to every other: one each, heard once each.
	for i, srv := range c.Servers {
		if err := c.NodeClient(i).Publish(ctx, s.keys.Wake(), "1").Err(); err != nil {
			t.Fatalf("PUBLISH on %s: %v", srv.Addr, err)
		}
		select {
		case <-wakes:
		case <-time.After(10 * time.Second): // guards against a hang, not a timing assertion
			t.Fatalf("a wake-up published on %s was not heard", srv.Addr)
		}
	}
	// And the store's own Wake, sent wherever the client picks.
	if err := s.Wake(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wakes:
	case <-ctx.Done():
		t.Fatal("the store's own wake-up was not heard")
	}
}
