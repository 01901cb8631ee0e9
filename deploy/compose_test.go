package deploy_test

// deploy/compose.yaml holds two stacks: the bot on one Redis (no profile,
// what `docker compose up` starts) and, in the profile "sentinel", the bot
// on a primary, a replica and three sentinels configured by sentinel.conf.
// No Docker runs here, so these tests read the file as compose would
// (YAML merge keys included) and hold both stacks to the code;
// TestDeployComposeSentinelFailsOver then runs the sentinel stack's Redis
// settings with the local redis-server.

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
)

// deployComposeService is what the tests read of a compose service.
type deployComposeService struct {
	Image    string   `yaml:"image"`
	Profiles []string `yaml:"profiles"`
	Command  any      `yaml:"command"`
	Build    struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	ReadOnly bool     `yaml:"read_only"`
	Ports    []string `yaml:"ports"`
}

// args is the service's command as a list ("sh -c …" stays one script).
func (s deployComposeService) args() []string {
	switch c := s.Command.(type) {
	case string:
		return strings.Fields(c)
	case []any:
		var args []string
		for _, a := range c {
			v, _ := a.(string)
			args = append(args, v)
		}
		return args
	}
	return nil
}

// sentinel reports whether the service runs a sentinel.
func (s deployComposeService) sentinel() bool {
	return slices.ContainsFunc(s.args(), func(a string) bool { return strings.Contains(a, "--sentinel") })
}

// deployCompose is what the tests read of compose.yaml.
type deployCompose struct {
	Services map[string]deployComposeService `yaml:"services"`
	Volumes  map[string]any                  `yaml:"volumes"`
}

func deployReadCompose(t *testing.T) deployCompose {
	t.Helper()
	path := filepath.Join(deployDir, "compose.yaml")
	docs := deployYAMLDocs(t, path)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", path, len(docs))
	}
	var c deployCompose
	deployDecode(t, path, docs[0], &c)
	return c
}

// namedVolumeAt reports whether the service mounts a named volume at dir.
func (c deployCompose) namedVolumeAt(s deployComposeService, dir string) bool {
	for _, v := range s.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		dst, _, _ = strings.Cut(dst, ":")
		if _, named := c.Volumes[src]; named && dst == dir {
			return true
		}
	}
	return false
}

// checkRedisNode checks a Redis server of either stack: persistent, never
// evicting, healthchecked.
func (c deployCompose) checkRedisNode(t *testing.T, name string) {
	t.Helper()
	s := c.Services[name]
	args := s.args()
	if !deployAppendOnly(args) {
		t.Errorf("compose %s: command %v does not turn on --appendonly yes", name, args)
	}
	if got := deployRedisArg(args, "--maxmemory-policy"); got != "noeviction" {
		t.Errorf("compose %s: --maxmemory-policy %q, want noeviction (Redis is the source of truth: a key must never be evicted)", name, got)
	}
	if !c.namedVolumeAt(s, "/data") {
		t.Errorf("compose %s: volumes %v, want a named volume at /data", name, s.Volumes)
	}
	if s.Healthcheck == nil || !slices.Contains(s.Healthcheck.Test, "ping") {
		t.Errorf("compose %s has no redis-cli ping healthcheck", name)
	}
}

// checkBot checks a bot service and returns its Redis settings, parsed.
func (c deployCompose) checkBot(t *testing.T, name string) config.Redis {
	t.Helper()
	bot, ok := c.Services[name]
	if !ok {
		t.Fatalf("compose.yaml has no %s service", name)
	}
	if df := filepath.Join(deployDir, bot.Build.Context, bot.Build.Dockerfile); bot.Build.Dockerfile == "" {
		t.Errorf("compose %s has no build.dockerfile", name)
	} else if _, err := os.Stat(df); err != nil {
		t.Errorf("compose %s builds from %s: %v", name, df, err)
	}
	known := deployKnownEnv(t)
	for v := range bot.Environment {
		if !known[v] {
			t.Errorf("compose %s sets %s, which config.Vars does not have", name, v)
		}
	}
	if !bot.ReadOnly {
		t.Errorf("compose %s should run with read_only: true", name)
	}
	r, err := config.ParseRedis(bot.Environment["REDIS_MODE"], bot.Environment["REDIS_URL"])
	if err != nil {
		t.Fatalf("compose %s: %v", name, err)
	}
	for dep, d := range bot.DependsOn {
		if d.Condition != "service_healthy" {
			t.Errorf("compose %s depends_on %s condition = %q, want service_healthy", name, dep, d.Condition)
		}
	}
	return r
}

func TestDeployCompose(t *testing.T) {
	c := deployReadCompose(t)
	for _, name := range []string{"redis", "bot"} {
		if s, ok := c.Services[name]; !ok {
			t.Fatalf("compose.yaml has no %s service", name)
		} else if len(s.Profiles) > 0 {
			t.Errorf("compose %s is in profiles %v; `docker compose up` must start it", name, s.Profiles)
		}
	}
	c.checkRedisNode(t, "redis")
	r := c.checkBot(t, "bot")
	if r.Mode != config.RedisSingle || r.Single.Addr != "redis:6379" {
		t.Errorf("compose bot: REDIS_MODE %s, address %s; want single, the redis service (redis:6379)", r.Mode, r.Single.Addr)
	}
	if _, ok := c.Services["bot"].DependsOn["redis"]; !ok {
		t.Error("compose bot does not depend on redis")
	}
	// What `up` starts must not wait for a service of a profile.
	for name, s := range c.Services {
		if len(s.Profiles) > 0 {
			continue
		}
		for dep := range s.DependsOn {
			if len(c.Services[dep].Profiles) > 0 {
				t.Errorf("compose %s (no profile) depends on %s, of profiles %v", name, dep, c.Services[dep].Profiles)
			}
		}
	}
}

// deploySentinelStack is the compose profile "sentinel", as the tests
// understand it.
type deploySentinelStack struct {
	compose   deployCompose
	primary   string   // the service the sentinels monitor
	replicas  []string // the other Redis servers of the profile
	sentinels []string // the services running a sentinel
	conf      []string // sentinel.conf, one directive a line, comments left out
	master    string   // the name the sentinels know the primary by
	port      string   // the primary's port in sentinel.conf
	quorum    int
	redis     config.Redis // bot-sentinel's REDIS_MODE and REDIS_URL
}

// deployReadSentinelStack reads the profile and checks it, failing the
// test where it is not a working Sentinel setup for the bot.
func deployReadSentinelStack(t *testing.T) *deploySentinelStack {
	t.Helper()
	st := &deploySentinelStack{compose: deployReadCompose(t)}
	c := st.compose
	var data []string
	for name, s := range c.Services {
		if !slices.Contains(s.Profiles, "sentinel") {
			continue
		}
		if len(s.Profiles) != 1 {
			t.Errorf("compose %s: profiles %v, want [sentinel]", name, s.Profiles)
		}
		switch {
		case name == "bot-sentinel":
		case s.sentinel():
			st.sentinels = append(st.sentinels, name)
		default:
			data = append(data, name)
		}
	}
	slices.Sort(st.sentinels)
	slices.Sort(data)
	if len(st.sentinels) < 3 {
		t.Fatalf("compose profile sentinel runs %d sentinels (%v), want 3", len(st.sentinels), st.sentinels)
	}

	// Every sentinel reads the one sentinel.conf, keeps its rewritten copy
	// in a volume, and answers its healthcheck on the sentinel port.
	confPath := ""
	for _, name := range st.sentinels {
		s := c.Services[name]
		mounted := ""
		for _, v := range s.Volumes {
			if src, _, _ := strings.Cut(v, ":"); strings.HasSuffix(src, ".conf") {
				mounted = filepath.Join(deployDir, src)
			}
		}
		if mounted == "" {
			t.Errorf("compose %s mounts no sentinel .conf file: %v", name, s.Volumes)
		} else if confPath == "" {
			confPath = mounted
		} else if mounted != confPath {
			t.Errorf("compose %s mounts %s, the others %s", name, mounted, confPath)
		}
		if !c.namedVolumeAt(s, "/data") {
			t.Errorf("compose %s: volumes %v, want a named volume at /data (a sentinel rewrites its file)", name, s.Volumes)
		}
		if s.Healthcheck == nil || !slices.Contains(s.Healthcheck.Test, "ping") || !slices.Contains(s.Healthcheck.Test, "26379") {
			t.Errorf("compose %s has no redis-cli -p 26379 ping healthcheck", name)
		}
	}
	if confPath == "" {
		t.FailNow()
	}
	st.readConf(t, confPath)

	// The primary the sentinels monitor, and its replicas.
	if !slices.Contains(data, st.primary) {
		t.Fatalf("sentinel.conf monitors %s, which is not a Redis service of the profile (%v)", st.primary, data)
	}
	if st.port != "6379" {
		t.Errorf("sentinel.conf monitors port %s of %s; the compose Redis listens on 6379", st.port, st.primary)
	}
	for _, name := range data {
		c.checkRedisNode(t, name)
		args := c.Services[name].args()
		if got := deployRedisArg(args, "--replica-announce-ip"); got != name {
			t.Errorf("compose %s announces %q to the sentinels, want its service name (a container's address changes on restart)", name, got)
		}
		if name == st.primary {
			if got := deployRedisArg(args, "--replicaof"); got != "" {
				t.Errorf("compose %s, the primary, is a replica of %s", name, got)
			}
			continue
		}
		st.replicas = append(st.replicas, name)
		if i := slices.Index(args, "--replicaof"); i < 0 || i+2 >= len(args) || args[i+1] != st.primary || args[i+2] != "6379" {
			t.Errorf("compose %s: %v, want --replicaof %s 6379", name, args, st.primary)
		}
	}
	if len(st.replicas) == 0 {
		t.Error("compose profile sentinel has no replica to promote")
	}
	if n := len(st.sentinels); st.quorum <= n/2 || st.quorum > n {
		t.Errorf("sentinel.conf quorum %d of %d sentinels: want a majority", st.quorum, n)
	}

	// The bot asks those sentinels for that primary.
	st.redis = c.checkBot(t, "bot-sentinel")
	if st.redis.Mode != config.RedisSentinel {
		t.Fatalf("compose bot-sentinel: REDIS_MODE %s, want sentinel", st.redis.Mode)
	}
	if st.redis.Sentinel.MasterName != st.master {
		t.Errorf("compose bot-sentinel asks for master_name %q; sentinel.conf monitors %q", st.redis.Sentinel.MasterName, st.master)
	}
	var want []string
	for _, s := range st.sentinels {
		want = append(want, net.JoinHostPort(s, "26379"))
	}
	got := slices.Sorted(slices.Values(st.redis.Sentinel.SentinelAddrs))
	if !slices.Equal(got, want) {
		t.Errorf("compose bot-sentinel's REDIS_URL names the sentinels %v, want %v", got, want)
	}
	bot := c.Services["bot-sentinel"]
	for _, dep := range append([]string{st.primary}, st.sentinels...) {
		if _, ok := bot.DependsOn[dep]; !ok {
			t.Errorf("compose bot-sentinel does not depend on %s", dep)
		}
	}
	if c.Services["bot"].Build != bot.Build {
		t.Errorf("compose bot-sentinel builds %+v, bot %+v: want the same image", bot.Build, c.Services["bot"].Build)
	}
	return st
}

// readConf reads sentinel.conf: its port, and the primary it monitors.
func (st *deploySentinelStack) readConf(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	resolve := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		st.conf = append(st.conf, line)
		fields := strings.Fields(line)
		switch {
		case len(fields) == 2 && fields[0] == "port" && fields[1] != "26379":
			t.Errorf("%s: port %s; the compose file and the bot's URL use 26379", path, fields[1])
		case len(fields) == 3 && fields[0] == "sentinel" && fields[1] == "resolve-hostnames":
			resolve = fields[2] == "yes"
		case len(fields) >= 2 && fields[0] == "sentinel" && fields[1] == "monitor":
			if len(fields) != 6 {
				t.Fatalf("%s: %q is not sentinel monitor <name> <host> <port> <quorum>", path, line)
			}
			if st.master != "" {
				t.Errorf("%s monitors two primaries", path)
			}
			st.master, st.primary, st.port = fields[2], fields[3], fields[4]
			if st.quorum, err = strconv.Atoi(fields[5]); err != nil {
				t.Errorf("%s: quorum %q: %v", path, fields[5], err)
			}
			if net.ParseIP(st.primary) == nil && !resolve {
				t.Errorf("%s monitors the host name %s without \"sentinel resolve-hostnames yes\" before it: the sentinel refuses to start", path, st.primary)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if st.master == "" {
		t.Fatalf("%s has no sentinel monitor line", path)
	}
}

func TestDeployComposeSentinel(t *testing.T) {
	deployReadSentinelStack(t)
}
