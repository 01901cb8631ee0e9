package store

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/redistest"
)

// The shapes the bot wrote to Redis before store.Intent and store.Pending
// existed (bot.launch, bot.intent, bot.pending at 1fae9b2). During a
// rolling upgrade the old replicas and the new ones read each other's
// launches and confirmations, in both directions.
type oldLaunch struct {
	ClusterID, PackageID int64
	Preset               string
	Variables            map[string]string
	DynamicVariables     map[string]string
	SecretNames          []string
	RerunOf              int64
}

type oldIntent struct {
	Channel   string    `json:"channel"`
	CardTS    string    `json:"card_ts"`
	Requester string    `json:"requester"`
	Launch    oldLaunch `json:"launch"`
	Asked     time.Time `json:"asked"`
}

type oldPending struct {
	User    string    `json:"user"`
	Channel string    `json:"channel"`
	Action  string    `json:"action"`
	Launch  oldLaunch `json:"launch"`
}

func upgradeStore(t *testing.T) (*Store, redis.UniversalClient) {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	s, err := New(rdb, Options{Prefix: prefix, SecretKey: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	return s, rdb
}

var oldRun = oldLaunch{ClusterID: 52, PackageID: 434, Preset: "nightly",
	Variables: map[string]string{"DATE": "2026-11-01", "DB_PASSWORD": "hunter2"}, DynamicVariables: map[string]string{"NOW": "CurrentTime()"},
	SecretNames: []string{"DB_PASSWORD"}, RerunOf: 1001}

var newRun = commands.Run{ClusterID: 52, PackageID: 434, Preset: "nightly",
	Variables: map[string]string{"DATE": "2026-11-01", "DB_PASSWORD": "hunter2"}, DynamicVariables: map[string]string{"NOW": "CurrentTime()"},
	SecretNames: []string{"DB_PASSWORD"}, RerunOf: 1001}

func TestIntentWrittenByTheOldBotIsReadByTheNewOne(t *testing.T) {
	ctx := context.Background()
	s, rdb := upgradeStore(t)
	asked := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	old := oldIntent{Channel: "C1", CardTS: "1700000000.000100", Requester: "U1", Launch: oldRun, Asked: asked}
	data, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	id := "C1:1700000000.000100"
	// What the old Store.SaveIntent(ctx, id, data, asked) did.
	if err := rdb.Set(ctx, s.keys.Intent(id), s.sealer.seal("intent:"+id, string(data)), intentTTL).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ZAdd(ctx, s.keys.Intents(), redis.Z{Score: float64(asked.UnixMilli()), Member: id}).Err(); err != nil {
		t.Fatal(err)
	}
	stale, err := s.StaleIntents(ctx, time.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	in := stale[id]
	if in == nil {
		t.Fatalf("the old intent was not read: %v", stale)
	}
	want := Intent{Channel: "C1", CardTS: "1700000000.000100", Requester: "U1", Run: newRun, Asked: asked}
	if !reflect.DeepEqual(*in, want) || in.ID() != id {
		t.Fatalf("old intent read as %+v, want %+v", *in, want)
	}
	pending, err := s.PendingLaunches(ctx, "")
	if err != nil || !reflect.DeepEqual(pending[id], want) {
		t.Fatalf("PendingLaunches = %+v, %v", pending, err)
	}
}

func TestIntentWrittenByTheNewBotIsReadByTheOldOne(t *testing.T) {
	ctx := context.Background()
	s, rdb := upgradeStore(t)
	asked := time.Now().UTC().Truncate(time.Millisecond)
	in := Intent{Channel: "C1", CardTS: "1700000000.000100", Requester: "U1", Run: newRun, Asked: asked}
	if err := s.SaveIntent(ctx, in); err != nil {
		t.Fatal(err)
	}
	raw, err := rdb.Get(ctx, s.keys.Intent(in.ID())).Result()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.sealer.openBlob("intent:"+in.ID(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var old oldIntent
	if err := json.Unmarshal([]byte(plain), &old); err != nil {
		t.Fatal(err)
	}
	want := oldIntent{Channel: "C1", CardTS: "1700000000.000100", Requester: "U1", Launch: oldRun, Asked: asked}
	if !reflect.DeepEqual(old, want) {
		t.Fatalf("the old bot would read %+v, want %+v", old, want)
	}
}

func TestPendingWrittenByTheOldBotIsReadByTheNewOne(t *testing.T) {
	ctx := context.Background()
	s, rdb := upgradeStore(t)
	data, err := json.Marshal(oldPending{User: "U1", Channel: "C1", Action: "rerun", Launch: oldRun})
	if err != nil {
		t.Fatal(err)
	}
	token := "0123456789abcdef0123456789abcdef"
	// What the old Store.SavePending(ctx, token, data, ttl) did.
	if err := rdb.Set(ctx, s.keys.Confirm(token), s.sealer.seal("pending:"+token, string(data)), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	want := Pending{User: "U1", Channel: "C1", Action: "rerun", Run: newRun}
	p, err := s.PeekPending(ctx, token)
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("PeekPending = %+v, %v; want %+v", p, err, want)
	}
	p, err = s.TakePending(ctx, token)
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("TakePending = %+v, %v; want %+v", p, err, want)
	}
}
