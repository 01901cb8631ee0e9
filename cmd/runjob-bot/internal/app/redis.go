package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
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
// failover promotes has only what the old primary passed on. On a Cluster
// the same holds of the primary of the bot's hash slot (every key of the
// bot carries the prefix's tag), and the writes wait only if that primary
// has a connected replica now (clusterReplicaWait). One server has no
// replica to wait for.
func replicaWait(ctx context.Context, log *slog.Logger, r config.Redis, rdb redis.UniversalClient, prefix string) (time.Duration, error) {
	if r.Mode == config.RedisSentinel {
		return store.DefaultReplicaWait, nil
	}
	if cluster, ok := rdb.(*redis.ClusterClient); ok {
		return clusterReplicaWait(ctx, log, cluster, prefix)
	}
	return 0, nil
}

// clusterReplicaWait asks the primary of the bot's slot (INFO
// replication) how many replicas it has, and says in the log what follows.
// With none, WAIT 1 would cost the whole wait on every such write, for
// nothing: the writes do not wait. A replica added later is waited for
// after a restart; one lost later makes each such write wait in vain, and
// the bot warns of them (unreplicated).
func clusterReplicaWait(ctx context.Context, log *slog.Logger, cluster *redis.ClusterClient, prefix string) (time.Duration, error) {
	if prefix == "" {
		prefix = store.DefaultPrefix
	}
	key := store.EffectivePrefix(cluster, prefix)
	primary, err := cluster.MasterForKey(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("the primary of the bot's hash slot {%s}: %w", store.HashTag(key), err)
	}
	addr := primary.Options().Addr
	info, err := primary.InfoMap(ctx, "replication").Result()
	if err != nil {
		return 0, fmt.Errorf("INFO replication on %s, the primary of the bot's hash slot: %w", addr, err)
	}
	n, _ := strconv.Atoi(info["Replication"]["connected_slaves"])
	if n < 1 {
		log.Warn("Redis Cluster: the primary of the bot's hash slot has no replica: writes do not wait for one (a replica added later is waited for once the bot restarts)",
			"primary", addr, "slot_tag", store.HashTag(key))
		return 0, nil
	}
	log.Info("Redis Cluster: the primary of the bot's hash slot has a replica: claims, launch intents, reply and direct-message markers and audit entries wait until one has them",
		"primary", addr, "slot_tag", store.HashTag(key), "replicas", n, "wait", store.DefaultReplicaWait.String())
	return store.DefaultReplicaWait, nil
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
