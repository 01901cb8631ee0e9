package config

import (
	"errors"
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
	return r, nil
}

// Supported refuses what ParseRedis reads but the bot cannot run on yet:
// Redis Cluster, whose every script and transaction must keep its keys in
// one hash slot, which the store's do not. Refused at startup rather than
// failing every command with CROSSSLOT later.
func (r Redis) Supported() error {
	if r.Mode == RedisCluster {
		return errors.New("REDIS_MODE is cluster, which is not supported yet: the bot's Lua scripts touch keys in several hash slots (Redis Cluster answers CROSSSLOT); use single or sentinel")
	}
	return nil
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
