package app

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/notifier/store"
)

// NewRedis returns a client of the Redis r describes: one server, the
// primary the sentinels name (followed through failovers), or a cluster.
// A cancelled context ends a blocking read at once in every mode.
func NewRedis(r config.Redis) (redis.UniversalClient, error) {
	switch {
	case r.Mode == config.RedisSingle && r.Single != nil:
		o := *r.Single
		o.ContextTimeoutEnabled = true
		return redis.NewClient(&o), nil
	case r.Mode == config.RedisSentinel && r.Sentinel != nil:
		o := *r.Sentinel
		o.ContextTimeoutEnabled = true
		return redis.NewFailoverClient(&o), nil
	case r.Mode == config.RedisCluster && r.Cluster != nil:
		o := *r.Cluster
		o.ContextTimeoutEnabled = true
		return redis.NewClusterClient(&o), nil
	}
	return nil, fmt.Errorf("redis: no options for REDIS_MODE=%q", r.Mode)
}

// replicaWait is how long the writes that must outlive a failover wait for
// a replica (store.Options.ReplicaWait): with Sentinel, the replica a
// failover promotes has only what the old primary passed on. One server
// has no replica to wait for; a Cluster is refused at start-up.
func replicaWait(r config.Redis) time.Duration {
	if r.Mode == config.RedisSentinel {
		return store.DefaultReplicaWait
	}
	return 0
}

// unreplicatedEvery spaces the warnings about writes no replica confirmed.
const unreplicatedEvery = time.Minute

// unreplicated returns what the store tells of a write no replica
// confirmed in time: the hook (a metric), and a warning at most once a
// minute with how many there were, since a replica that is away would
// otherwise bring one for every command and reply.
func unreplicated(log *slog.Logger, hook func(string)) func(string) {
	var mu sync.Mutex
	var last time.Time
	n := 0
	return func(what string) {
		if hook != nil {
			hook(what)
		}
		mu.Lock()
		defer mu.Unlock()
		n++
		if time.Since(last) < unreplicatedEvery {
			return
		}
		log.Warn("writes went ahead that no Redis replica confirmed in time: a failover now would lose them",
			"writes", n, "last", what, "waited", store.DefaultReplicaWait.String())
		last, n = time.Now(), 0
	}
}
