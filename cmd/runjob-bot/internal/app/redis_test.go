package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/notifier/redistest"
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
