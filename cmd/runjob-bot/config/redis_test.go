package config

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRedisModes(t *testing.T) {
	r, err := ParseRedis("", "rediss://:pw@cache:6380/1")
	if err != nil || r.Mode != RedisSingle || r.Single == nil || r.Single.Addr != "cache:6380" || r.Single.DB != 1 ||
		r.Single.Password != "pw" || r.Single.TLSConfig == nil || r.Sentinel != nil || r.Cluster != nil {
		t.Errorf("single: %+v, %v", r, err)
	}
	r, err = ParseRedis("Sentinel", "redis://:sentpw@s1:26379/2?master_name=mymaster&addr=s2:26379&addr=s3:26379&password=primarypw")
	if err != nil || r.Mode != RedisSentinel || r.Sentinel == nil || r.Single != nil {
		t.Fatalf("sentinel: %+v, %v", r, err)
	}
	if o := r.Sentinel; o.MasterName != "mymaster" || !slices.Equal(o.SentinelAddrs, []string{"s1:26379", "s2:26379", "s3:26379"}) ||
		o.DB != 2 || o.SentinelPassword != "sentpw" || o.Password != "primarypw" {
		t.Errorf("sentinel options = %+v", o)
	}
	r, err = ParseRedis("cluster", "redis://:pw@n1:6379?addr=n2:6379&addr=n3:6379")
	if err != nil || r.Mode != RedisCluster || r.Cluster == nil ||
		!slices.Equal(r.Cluster.Addrs, []string{"n1:6379", "n2:6379", "n3:6379"}) || r.Cluster.Password != "pw" {
		t.Errorf("cluster: %+v, %v", r, err)
	}
}

// Every refusal names the variable, the mode and the problem; none shows
// a password, wherever in the URL it was written.
func TestParseRedisErrorsNameModeNotPassword(t *testing.T) {
	cases := []struct {
		mode, url string
		want      []string
	}{
		{"single", "http://:hunter2secret@cache:6379/0", []string{"REDIS_MODE=single", "invalid URL scheme"}},
		{"single", "redis://:hunter2secret@cache:6379/0?addr=other:6379", []string{"REDIS_MODE=single", "unexpected option: addr"}},
		{"single", "redis://:hunter2secret@cache:6379/zero", []string{"REDIS_MODE=single", "database"}},
		{"single", "redis://:hunter2secret@ca che:6379/0", []string{"REDIS_MODE=single", "cannot be parsed"}},
		{"sentinel", "redis://:hunter2secret@s1:26379/0?addr=s2:26379", []string{"REDIS_MODE=sentinel", "master_name", "mymaster"}},
		{"sentinel", "redis://s1:26379/0?master_name=m&password=hunter2secret&addr=s2", []string{"REDIS_MODE=sentinel", "addr"}},
		{"sentinel", "redis://s1:26379/0?master_name=m&password=hunter2secret&dial_timeout=hunter2secret", []string{"REDIS_MODE=sentinel", "malformed"}},
		{"cluster", "redis://:hunter2secret@n1:6379/0?bogus=1", []string{"REDIS_MODE=cluster", "bogus"}},
		{"cluster", "redis://:hunter2secret@n1:6379?addr=n2:6379&read_only=true", []string{"REDIS_MODE=cluster", "read_only", "primary"}},
		{"cluster", "redis://:hunter2secret@n1:6379?route_by_latency=true", []string{"REDIS_MODE=cluster", "route_by_latency"}},
		{"cluster", "redis://:hunter2secret@n1:6379?route_randomly=true", []string{"REDIS_MODE=cluster", "route_randomly"}},
		{"sentinel", "redis://:hunter2secret@s1:26379/0?master_name=m&replica_only=true", []string{"REDIS_MODE=sentinel", "replica_only"}},
		{"sentinel", "redis://:hunter2secret@s1:26379/0?master_name=m&route_randomly=true", []string{"REDIS_MODE=sentinel", "route_randomly"}},
		{"sentinel", "redis://:hunter2secret@s1:26379/0?master_name=m&route_by_latency=true", []string{"REDIS_MODE=sentinel", "route_by_latency"}},
		{"sentinel", "redis://:hunter2secret@s1:26379/0?master_name=m&use_disconnected_replicas=true", []string{"REDIS_MODE=sentinel", "use_disconnected_replicas"}},
		{"replicated", "redis://:hunter2secret@cache:6379/0", []string{"REDIS_MODE must be single, sentinel or cluster", "replicated"}},
	}
	for _, c := range cases {
		_, err := ParseRedis(c.mode, c.url)
		if err == nil {
			t.Errorf("%s %s: accepted", c.mode, c.url)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %s: error %q does not say %q", c.mode, c.url, err, w)
			}
		}
		if strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("%s: error shows the password: %q", c.mode, err)
		}
	}
}

// Cluster and sentinel modes start: the URL is read by the mode's parser,
// and nothing of it but the addresses and the master name is kept in sight.
func TestConfigRedisMode(t *testing.T) {
	vars := validEnv()
	vars["REDIS_MODE"] = "cluster"
	vars["REDIS_URL"] = "redis://:redispass99@n1:6379?addr=n2:6379&addr=n3:6379"
	c, err := loadChecked(t, vars)
	if err != nil || c.Redis.Mode != RedisCluster || c.Redis.Cluster == nil ||
		!slices.Equal(c.Redis.Cluster.Addrs, []string{"n1:6379", "n2:6379", "n3:6379"}) {
		t.Errorf("cluster: %+v, %v", c.Redis, err)
	}
	if w := c.Redis.Where(); w != "the cluster of n1:6379, n2:6379, n3:6379" || strings.Contains(w, "redispass99") {
		t.Errorf("cluster: Where = %q", w)
	}
	vars["REDIS_URL"] = "redis://:redispass99@n1:6379?addr=n2:6379&bogus=redispass99"
	if _, err := loadChecked(t, vars); err == nil || !strings.Contains(err.Error(), "REDIS_MODE=cluster") ||
		strings.Contains(err.Error(), "redispass99") {
		t.Errorf("cluster, bad URL: err = %v, want the mode named and no password", err)
	}
	vars["REDIS_MODE"] = "sentinel"
	vars["REDIS_URL"] = "redis://:redispass99@s1:26379/0?master_name=mymaster&addr=s2:26379"
	c, err = loadChecked(t, vars)
	if err != nil || c.Redis.Mode != RedisSentinel || c.Redis.Sentinel.MasterName != "mymaster" {
		t.Errorf("sentinel: %+v, %v", c.Redis, err)
	}
}

// A password with an unencoded '/', '?' or '#' ends the URL's host part
// early: url.Parse reads the rest of it as the path, query or fragment,
// which go-redis' parsers quote in their errors ("invalid URL path:
// /hunter2secret@…", "unexpected option: hunter2secret@…") or ignore
// (cluster, '#': the bot went to localhost:6379). Each is refused without
// quoting it; an '@' in a query value is still allowed.
func TestParseRedisPasswordNotEncoded(t *testing.T) {
	for _, c := range []struct{ mode, url string }{
		{"single", "redis://:/hunter2secret@cache:6379/0"},
		{"single", "redis://default:/hunter2secret@cache:6379/0"},
		{"single", "redis://:12/hunter2secret@cache:6379/0"},
		{"single", "redis://:?hunter2secret@cache:6379/0"},
		{"single", "redis://:#hunter2secret@cache:6379/0"},
		{"sentinel", "redis://:/hunter2secret@s1:26379/0?master_name=m"},
		{"sentinel", "redis://:?hunter2secret@s1:26379/0?master_name=m"},
		{"cluster", "redis://:/hunter2secret@n1:6379"},
		{"cluster", "redis://:?hunter2secret@n1:6379"},
		{"cluster", "rediss://:#hunter2secret@n1:6379"},
	} {
		_, err := ParseRedis(c.mode, c.url)
		if err == nil {
			t.Errorf("%s %s: accepted", c.mode, c.url)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows the password: %q", c.mode, err)
		}
		if !strings.Contains(err.Error(), "REDIS_MODE="+c.mode) || !strings.Contains(err.Error(), "percent-encoded") {
			t.Errorf("%s %s: error %q does not say the mode and what to do", c.mode, c.url, err)
		}
	}
	for _, c := range []struct{ mode, url string }{
		{"sentinel", "redis://s1:26379/0?master_name=m&password=p@ss"},
		{"single", "redis://:p%2Fw%3Fx%23y%40z@cache:6379/0"},
		{"single", "redis://user:p@ss@cache:6379/0"},
	} {
		if _, err := ParseRedis(c.mode, c.url); err != nil {
			t.Errorf("%s %s: refused: %v", c.mode, c.url, err)
		}
	}
}
