package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/store"
)

// REDIS_MODE=sentinel with the URL of a real Sentinel setup reaches its
// primary: writes go through, and the server written to is the primary.
func TestNewRedisSentinel(t *testing.T) {
	setup := redistest.StartSentinel(t)
	r, err := config.ParseRedis("sentinel", setup.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := NewRedis(r)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := redistest.Prefix(t) + "k"
	if err := rdb.Set(ctx, key, "v", time.Minute).Err(); err != nil {
		t.Fatalf("write through the sentinel client: %v", err)
	}
	role, err := rdb.Do(ctx, "ROLE").Slice()
	if err != nil || len(role) == 0 || role[0] != "master" {
		t.Errorf("the sentinel client talks to a %v (%v), want the primary", role, err)
	}
}

func TestNewRedisModes(t *testing.T) {
	for _, c := range []struct{ mode, url, want string }{
		{"single", "redis://127.0.0.1:6379/0", "*redis.Client"},
		{"cluster", "redis://127.0.0.1:7000?addr=127.0.0.1:7001", "*redis.ClusterClient"},
	} {
		r, err := config.ParseRedis(c.mode, c.url)
		if err != nil {
			t.Fatal(err)
		}
		rdb, err := NewRedis(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%T", rdb); got != c.want {
			t.Errorf("%s: client %s, want %s", c.mode, got, c.want)
		}
		_ = rdb.Close()
	}
	if _, err := NewRedis(config.Redis{Mode: "sentinel"}); err == nil {
		t.Error("a sentinel mode without options made a client")
	}
}

// On a Cluster the durable writes wait only once the primary of the
// bot's slot has a replica, and the log says which; with Sentinel they
// always wait, on one server never.
func TestReplicaWaitOnAClusterNeedsTheSlotsReplica(t *testing.T) {
	c := redistest.StartCluster(t)
	rdb := c.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cluster := config.Redis{Mode: config.RedisCluster}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	wait, err := replicaWait(ctx, log, cluster, rdb, "runjob:")
	if err != nil || wait != 0 {
		t.Errorf("without a replica, replicaWait = %v, %v; want 0", wait, err)
	}
	if !strings.Contains(logs.String(), "has no replica") {
		t.Errorf("without a replica the log says %q", logs.String())
	}

	c.AddReplica(store.EffectivePrefix(rdb, "runjob:"))
	logs.Reset()
	wait, err = replicaWait(ctx, log, cluster, rdb, "runjob:")
	if err != nil || wait != store.DefaultReplicaWait {
		t.Errorf("with a replica, replicaWait = %v, %v; want %v", wait, err, store.DefaultReplicaWait)
	}
	if !strings.Contains(logs.String(), "has a replica") || !strings.Contains(logs.String(), "replicas=1") {
		t.Errorf("with a replica the log says %q", logs.String())
	}

	if wait, err := replicaWait(ctx, log, config.Redis{Mode: config.RedisSentinel}, nil, ""); err != nil || wait != store.DefaultReplicaWait {
		t.Errorf("with Sentinel, replicaWait = %v, %v; want %v", wait, err, store.DefaultReplicaWait)
	}
	single := redistest.Start(t).Client()
	if wait, err := replicaWait(ctx, log, config.Redis{Mode: config.RedisSingle}, single, ""); err != nil || wait != 0 {
		t.Errorf("on one server, replicaWait = %v, %v; want 0", wait, err)
	}
}
