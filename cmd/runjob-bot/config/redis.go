package config

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// The values of REDIS_MODE.
const (
	RedisSingle   = "single"
	RedisSentinel = "sentinel"
	RedisCluster  = "cluster"
)

// Redis is how to reach the bot's Redis: REDIS_MODE and REDIS_URL, read by
// go-redis' own parser for the mode. Exactly one of Single, Sentinel and
// Cluster is set, the one Mode names.
type Redis struct {
	Mode     string
	Single   *redis.Options         // single: redis.ParseURL
	Sentinel *redis.FailoverOptions // sentinel: redis.ParseFailoverURL
	Cluster  *redis.ClusterOptions  // cluster: redis.ParseClusterURL
}

// SingleRedis is a Redis of one server (tests and the shell use it).
func SingleRedis(o *redis.Options) Redis { return Redis{Mode: RedisSingle, Single: o} }

// ParseRedis reads rawURL as REDIS_MODE mode says ("" is single). The
// error names the mode and the problem and never quotes a password: a
// parser's message is passed on only when no secret of the URL is in it.
func ParseRedis(mode, rawURL string) (Redis, error) {
	mode = strings.ToLower(strings.TrimSpace(mode))
	if mode == "" {
		mode = RedisSingle
	}
	rawURL = strings.TrimSpace(rawURL)
	if mode == RedisSingle || mode == RedisSentinel || mode == RedisCluster {
		if userinfoOutside(rawURL) {
			return Redis{}, fmt.Errorf("REDIS_URL (REDIS_MODE=%s) has an '@' after its host: a password holding /, ? or # must be percent-encoded (%%2F, %%3F, %%23; @ as %%40), like %s", mode, examples[mode])
		}
	}
	r := Redis{Mode: mode}
	var err error
	switch mode {
	case RedisSingle:
		r.Single, err = redis.ParseURL(rawURL)
	case RedisSentinel:
		if r.Sentinel, err = redis.ParseFailoverURL(rawURL); err == nil && r.Sentinel.MasterName == "" {
			return Redis{}, fmt.Errorf("REDIS_URL (REDIS_MODE=sentinel) has no master_name: name the primary the sentinels watch, like %s", sentinelExample)
		}
	case RedisCluster:
		r.Cluster, err = redis.ParseClusterURL(rawURL)
	default:
		return Redis{}, fmt.Errorf("REDIS_MODE must be single, sentinel or cluster (got %q)", mode)
	}
	if err != nil {
		return Redis{}, fmt.Errorf("REDIS_URL is not a valid URL for REDIS_MODE=%s: %s (like %s)", mode, safeReason(rawURL, err), examples[mode])
	}
	if opt := r.replicaRouting(); opt != "" {
		return Redis{}, fmt.Errorf("REDIS_URL (REDIS_MODE=%s) sets %s: the bot must read and write on the primary (a replica lags, and a delivery must see the marker it has just written); remove it", mode, opt)
	}
	return r, nil
}

// replicaRouting names the URL option of r that sends commands to
// replicas, or is "". go-redis reads them from the URL, but a stale read
// of a delivered marker would post a reply twice, and the failover client
// panics on the two route_ options.
func (r Redis) replicaRouting() string {
	switch {
	case r.Cluster != nil && r.Cluster.RouteByLatency, r.Sentinel != nil && r.Sentinel.RouteByLatency:
		return "route_by_latency"
	case r.Cluster != nil && r.Cluster.RouteRandomly, r.Sentinel != nil && r.Sentinel.RouteRandomly:
		return "route_randomly"
	case r.Cluster != nil && r.Cluster.ReadOnly:
		return "read_only"
	case r.Sentinel != nil && r.Sentinel.ReplicaOnly:
		return "replica_only"
	case r.Sentinel != nil && r.Sentinel.UseDisconnectedReplicas:
		return "use_disconnected_replicas"
	}
	return ""
}

// Where says which Redis r reaches, without its password.
func (r Redis) Where() string {
	switch {
	case r.Single != nil:
		return r.Single.Addr
	case r.Sentinel != nil:
		return fmt.Sprintf("primary %q of the sentinels %s", r.Sentinel.MasterName, strings.Join(r.Sentinel.SentinelAddrs, ", "))
	case r.Cluster != nil:
		return "the cluster of " + strings.Join(r.Cluster.Addrs, ", ")
	}
	return "nowhere"
}

const sentinelExample = "redis://:password@host1:26379/0?master_name=mymaster&addr=host2:26379&addr=host3:26379"

var examples = map[string]string{
	RedisSingle:   "redis://:password@host:6379/0 or rediss://… for TLS",
	RedisSentinel: sentinelExample,
	RedisCluster:  "redis://:password@host1:6379?addr=host2:6379&addr=host3:6379",
}

// userinfoOutside reports whether rawURL has an '@' that url.Parse reads
// past the host: a password holding an unencoded '/', '?' or '#' ends the
// host part early, so the rest of the password becomes the path, query or
// fragment, which the parsers quote in their errors (or ignore, leaving
// the bot on localhost:6379). An '@' in a query value (password=p@ss) is
// allowed.
func userinfoOutside(rawURL string) bool {
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return false
	}
	at := strings.IndexByte(rest, '@')
	end := strings.IndexAny(rest, "/?#")
	if at < 0 || end < 0 || end > at {
		return false
	}
	q := strings.IndexByte(rest, '?')
	inQueryValue := q >= 0 && q < at && strings.Contains(rest[q:at], "=") && !strings.Contains(rest[:at], "#")
	return !inQueryValue
}

// safeReason is the parser's message when it holds none of the URL's
// secrets (its password, password= or sentinel_password= values), else a
// generic one: url.Parse's errors quote the whole URL.
func safeReason(rawURL string, err error) string {
	u, perr := url.Parse(rawURL)
	if perr != nil {
		return "it cannot be parsed as a URL"
	}
	msg := strings.TrimPrefix(err.Error(), "redis: ")
	secrets := []string{}
	if p, ok := u.User.Password(); ok {
		secrets = append(secrets, p)
	}
	if u.User != nil && u.User.Username() != "" {
		secrets = append(secrets, u.User.Username()) // a password written without the ':'
	}
	for k, vs := range u.Query() {
		if strings.Contains(strings.ToLower(k), "password") {
			secrets = append(secrets, vs...)
		}
	}
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if form != "" && strings.Contains(msg, form) {
				return "it is malformed"
			}
		}
	}
	return msg
}
