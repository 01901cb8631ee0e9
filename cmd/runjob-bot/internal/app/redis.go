package app

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
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
