// Package deploy_test holds the deploy/ files to the code they deploy.
package deploy_test

// The deploy/ files cannot be tried here (no Docker, no cluster, no Slack
// workspace), so these tests hold them to the code they deploy: the
// variables of config.Vars, the probes and port the binary serves, the Slack
// features the bot uses.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
)

const deployDir = "."

// deployEnvVar is one variable the bot reads (config.Vars).
type deployEnvVar struct {
	name, def, desc string
	hasDefault      bool
}

// deployEnvVars lists the variables of config.Vars in their order.
func deployEnvVars(t *testing.T) []deployEnvVar {
	t.Helper()
	var vars []deployEnvVar
	for _, v := range config.Vars {
		vars = append(vars, deployEnvVar{name: v.Name, def: v.Default, desc: v.Desc, hasDefault: v.Default != ""})
	}
	if len(vars) == 0 {
		t.Fatal("config.Vars has no variables")
	}
	return vars
}

func deployKnownEnv(t *testing.T) map[string]bool {
	known := map[string]bool{}
	for _, v := range deployEnvVars(t) {
		known[v.name] = true
	}
	return known
}

// deploySecretName tells the variables whose example values must be placeholders.
var deploySecretName = regexp.MustCompile(`(TOKEN|KEY|PASSWORD|SECRET|AUTH)$`).MatchString

// deployPlaceholder reports whether a secret's value is obviously not real.
func deployPlaceholder(v string) bool {
	l := strings.ToLower(v)
	return strings.Contains(l, "your") || strings.Contains(l, "change-me") || strings.Contains(l, "change_me")
}

// deployEnvEntry is one NAME=value line of env.example with the comment
// block right above it.
type deployEnvEntry struct {
	name, value, comment string
	line                 int
}

func deployParseEnvExample(t *testing.T) []deployEnvEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, "env.example"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		entries []deployEnvEntry
		comment []string
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			comment = nil
		case strings.HasPrefix(line, "#"):
			comment = append(comment, strings.TrimSpace(strings.TrimPrefix(line, "#")))
		default:
			name, value, ok := strings.Cut(line, "=")
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				t.Errorf("env.example:%d: %q is not NAME=value", n, line)
				continue
			}
			entries = append(entries, deployEnvEntry{name: name, value: value, comment: strings.Join(comment, " "), line: n})
			comment = nil
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestDeployEnvExample(t *testing.T) {
	vars := deployEnvVars(t)
	entries := deployParseEnvExample(t)

	var want, got []string
	for _, v := range vars {
		want = append(want, v.name)
	}
	for _, e := range entries {
		got = append(got, e.name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("deploy/env.example names (in order) differ from config.Vars (cmd/runjob-bot/config/vars.go):\n got %v\nwant %v", got, want)
	}

	byName := map[string]deployEnvEntry{}
	for _, e := range entries {
		if _, dup := byName[e.name]; dup {
			t.Errorf("env.example:%d: %s is set twice", e.line, e.name)
		}
		byName[e.name] = e
	}
	for _, v := range vars {
		e, ok := byName[v.name]
		if !ok {
			continue // reported above
		}
		if !strings.Contains(e.comment, v.desc) {
			t.Errorf("env.example:%d: the comment above %s should contain its desc %q; it is %q", e.line, v.name, v.desc, e.comment)
		}
		if v.hasDefault {
			if e.value != v.def {
				t.Errorf("env.example:%d: %s=%q, but its default is %q", e.line, v.name, e.value, v.def)
			}
			if !strings.Contains(e.comment, "Default: "+v.def) {
				t.Errorf("env.example:%d: the comment above %s should say %q", e.line, v.name, "Default: "+v.def)
			}
		}
		// An empty value holds no secret (optional keys are left empty).
		if deploySecretName(v.name) && e.value != "" && !deployPlaceholder(e.value) {
			t.Errorf("env.example:%d: %s must be an obvious placeholder (containing \"your\" or \"CHANGE-ME\"), not %q", e.line, v.name, e.value)
		}
	}
}

// deployYAMLDocs decodes every document of a YAML file.
func deployYAMLDocs(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []*yaml.Node
	dec := yaml.NewDecoder(f)
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Errorf("%s: document %d: %v", path, len(docs)+1, err)
			break
		}
		if len(n.Content) == 0 {
			continue // an empty document (only comments)
		}
		docs = append(docs, &n)
	}
	return docs
}

func deployDecode(t *testing.T, where string, n *yaml.Node, v any) {
	t.Helper()
	if err := n.Decode(v); err != nil {
		t.Errorf("%s: %v", where, err)
	}
}

func deployYAMLFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDeployYAMLParses(t *testing.T) {
	files := deployYAMLFiles(t, deployDir)
	if len(files) == 0 {
		t.Fatal("no YAML files under deploy/")
	}
	for _, path := range files {
		if docs := deployYAMLDocs(t, path); len(docs) == 0 {
			t.Errorf("%s: no YAML document", path)
		}
	}
}

// deployObject is the part of a Kubernetes object the tests look at.
type deployObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Type       string            `yaml:"type"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       yaml.Node         `yaml:"spec"`

	file string
}

type deployProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

func (p *deployProbe) path() string {
	if p == nil || p.HTTPGet == nil {
		return ""
	}
	return p.HTTPGet.Path
}

type deploySecurityContext struct {
	RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
	RunAsUser                *int64 `yaml:"runAsUser"`
	ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type deployContainer struct {
	Name    string `yaml:"name"`
	Image   string `yaml:"image"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name string `yaml:"name"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe  *deployProbe `yaml:"livenessProbe"`
	ReadinessProbe *deployProbe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext deploySecurityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type deploySpec struct {
	Replicas *int `yaml:"replicas"`
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Strategy struct {
		Type string `yaml:"type"`
	} `yaml:"strategy"`
	Template struct {
		Metadata struct {
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
		Spec struct {
			TerminationGracePeriodSeconds *int                  `yaml:"terminationGracePeriodSeconds"`
			SecurityContext               deploySecurityContext `yaml:"securityContext"`
			Containers                    []deployContainer     `yaml:"containers"`
			Volumes                       []struct {
				Name      string `yaml:"name"`
				ConfigMap *struct {
					Name string `yaml:"name"`
				} `yaml:"configMap"`
			} `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

// deployObjects builds a variant (render_test.go) and checks each object is
// well-formed.
func deployObjects(t *testing.T, dir string) []*deployObject {
	t.Helper()
	var objs []*deployObject
	for _, r := range deployBuildVariant(t, dir) {
		data, err := yaml.Marshal(r.doc)
		if err != nil {
			t.Fatal(err)
		}
		o := &deployObject{file: r.file}
		if err := yaml.Unmarshal(data, o); err != nil {
			t.Errorf("%s: %s: %v", r.file, r.key(), err)
			continue
		}
		if o.APIVersion == "" {
			t.Errorf("%s: %s lacks apiVersion", r.file, r.key())
			continue
		}
		if got := o.Metadata.Labels["app.kubernetes.io/name"]; got != "runjob" {
			t.Errorf("%s: %s: label app.kubernetes.io/name is %q, want runjob", r.file, r.key(), got)
		}
		objs = append(objs, o)
	}
	return objs
}

func deployFind(objs []*deployObject, kind, name string) *deployObject {
	for _, o := range objs {
		if o.Kind == kind && (name == "" || o.Metadata.Name == name) {
			return o
		}
	}
	return nil
}

// TestDeployKubernetes checks each variant as kubectl would apply it: the
// bot's Deployment, where its settings come from, and the Redis it uses.
func TestDeployKubernetes(t *testing.T) {
	for _, v := range deployVariants {
		t.Run(v.name, func(t *testing.T) {
			objs := deployObjects(t, v.dir)
			deployCheckBot(t, objs)
			deployCheckRedis(t, objs, v.mode)
		})
	}
}

// deployCheckBot checks the bot's Deployment and what it reads.
func deployCheckBot(t *testing.T, objs []*deployObject) {
	known := deployKnownEnv(t)
	dep := deployFind(objs, "Deployment", "")
	if dep == nil {
		t.Fatal("no Deployment in deploy/kubernetes")
	}
	var spec deploySpec
	deployDecode(t, dep.file, &dep.Spec, &spec)
	if spec.Replicas == nil {
		t.Error("Deployment does not set replicas, want 2")
	} else if *spec.Replicas != 2 {
		t.Errorf("Deployment replicas = %d, want 2", *spec.Replicas)
	}
	if spec.Strategy.Type != "RollingUpdate" {
		t.Errorf("Deployment strategy = %q, want RollingUpdate", spec.Strategy.Type)
	}
	for k, v := range spec.Selector.MatchLabels {
		if spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Deployment selector %s=%s does not match the pod labels %v", k, v, spec.Template.Metadata.Labels)
		}
	}
	if spec.Template.Metadata.Annotations["prometheus.io/scrape"] != "true" ||
		spec.Template.Metadata.Annotations["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v lack prometheus.io/scrape: \"true\" and prometheus.io/path: /metrics", spec.Template.Metadata.Annotations)
	}
	if g := spec.Template.Spec.TerminationGracePeriodSeconds; g != nil && *g < 15 {
		t.Errorf("terminationGracePeriodSeconds = %d, want at least 15 (the bot takes up to 10 s to stop)", *g)
	}
	psc := spec.Template.Spec.SecurityContext
	if len(spec.Template.Spec.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(spec.Template.Spec.Containers))
	}
	c := spec.Template.Spec.Containers[0]

	if got := c.LivenessProbe.path(); got != "/healthz" {
		t.Errorf("liveness probe path = %q, want httpGet /healthz", got)
	}
	if got := c.ReadinessProbe.path(); got != "/readyz" {
		t.Errorf("readiness probe path = %q, want httpGet /readyz", got)
	}
	httpPort := false
	for _, p := range c.Ports {
		httpPort = httpPort || (p.Name == "http" && p.ContainerPort == 8080)
	}
	if !httpPort {
		t.Errorf("container ports %+v lack http: 8080 (HTTP_ADDR's default)", c.Ports)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" || c.Resources.Limits[r] == "" {
			t.Errorf("container resources lack a %s request or limit: %+v", r, c.Resources)
		}
	}
	csc := c.SecurityContext
	isTrue := func(a, b *bool) bool { return (a != nil && *a) || (a == nil && b != nil && *b) }
	if !isTrue(csc.RunAsNonRoot, psc.RunAsNonRoot) {
		t.Error("runAsNonRoot is not true for the bot container")
	}
	if u := csc.RunAsUser; (u == nil || *u != 65532) && (psc.RunAsUser == nil || *psc.RunAsUser != 65532) {
		t.Error("runAsUser is not 65532 (distroless nonroot; needed since the image's USER is a name)")
	}
	if !isTrue(csc.ReadOnlyRootFilesystem, nil) {
		t.Error("readOnlyRootFilesystem is not true for the bot container")
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false for the bot container")
	}
	if !slices.Contains(csc.Capabilities.Drop, "ALL") {
		t.Errorf("capabilities.drop = %v, want ALL", csc.Capabilities.Drop)
	}

	// Every variable the manifests set is one the bot reads.
	for _, e := range c.Env {
		if !known[e.Name] {
			t.Errorf("Deployment sets env %s, which config.Vars does not have", e.Name)
		}
	}
	envFromNames := map[string]bool{}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			envFromNames["ConfigMap/"+ef.ConfigMapRef.Name] = true
		case ef.SecretRef != nil:
			envFromNames["Secret/"+ef.SecretRef.Name] = true
		}
	}
	var sawConfigMap, sawSecret bool
	for ref := range envFromNames {
		kind, name, _ := strings.Cut(ref, "/")
		o := deployFind(objs, kind, name)
		if o == nil {
			t.Errorf("Deployment envFrom %s, which deploy/kubernetes does not define", ref)
			continue
		}
		keys := o.Data
		if kind == "Secret" {
			sawSecret = true
			keys = o.StringData
			if o.Type != "Opaque" {
				t.Errorf("Secret %s type = %q, want Opaque", name, o.Type)
			}
		} else {
			sawConfigMap = true
		}
		for key, value := range keys {
			if !known[key] {
				t.Errorf("%s sets %s, which config.Vars does not have", ref, key)
			}
			if kind == "Secret" && deploySecretName(key) && !deployPlaceholder(value) {
				t.Errorf("%s: %s must be a CHANGE-ME placeholder, not %q", ref, key, value)
			}
		}
	}
	if !sawConfigMap || !sawSecret {
		t.Errorf("Deployment envFrom %v, want a ConfigMap and a Secret", envFromNames)
	}
	// The secrets come from the Secret, not the ConfigMap.
	for ref := range envFromNames {
		if kind, name, _ := strings.Cut(ref, "/"); kind == "ConfigMap" {
			for key := range deployFind(objs, kind, name).Data {
				if deploySecretName(key) || key == "REDIS_URL" {
					t.Errorf("%s holds %s, which belongs in the Secret", ref, key)
				}
			}
		}
	}

	// RUNJOB_POLICY, when set, names a file a ConfigMap volume provides.
	for ref := range envFromNames {
		kind, name, _ := strings.Cut(ref, "/")
		if kind != "ConfigMap" {
			continue
		}
		policy := deployFind(objs, kind, name).Data["RUNJOB_POLICY"]
		if policy == "" {
			continue
		}
		dir, file := filepath.Split(policy)
		provided := false
		for _, m := range c.VolumeMounts {
			if filepath.Clean(m.MountPath) != filepath.Clean(dir) {
				continue
			}
			for _, v := range spec.Template.Spec.Volumes {
				if v.Name != m.Name || v.ConfigMap == nil {
					continue
				}
				if cm := deployFind(objs, "ConfigMap", v.ConfigMap.Name); cm != nil {
					_, ok := cm.Data[file]
					provided = provided || ok
				}
			}
		}
		if !provided {
			t.Errorf("RUNJOB_POLICY=%s, but no ConfigMap volume mounted at %s has the key %s", policy, dir, file)
		}
		for _, o := range objs {
			if text, ok := o.Data[file]; ok && o.Kind == "ConfigMap" {
				var doc any
				if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
					t.Errorf("ConfigMap %s: %s is not YAML: %v", o.Metadata.Name, file, err)
				}
			}
		}
	}

	// The metrics Service and the PodDisruptionBudget select the bot's pods.
	podLabels := spec.Template.Metadata.Labels
	selects := func(sel map[string]string) bool {
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if svc := deployFind(objs, "Service", "runjob-metrics"); svc == nil {
		t.Error("no Service runjob-metrics")
	} else {
		var s struct {
			Type     string            `yaml:"type"`
			Selector map[string]string `yaml:"selector"`
		}
		deployDecode(t, svc.file, &svc.Spec, &s)
		if s.Type != "ClusterIP" || !selects(s.Selector) {
			t.Errorf("Service runjob-metrics: type %q selector %v, want ClusterIP selecting the bot pods %v", s.Type, s.Selector, podLabels)
		}
	}
	if pdb := deployFind(objs, "PodDisruptionBudget", ""); pdb == nil {
		t.Error("no PodDisruptionBudget")
	} else {
		var p struct {
			MinAvailable any `yaml:"minAvailable"`
			Selector     struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
		}
		deployDecode(t, pdb.file, &pdb.Spec, &p)
		if p.MinAvailable != 1 || !selects(p.Selector.MatchLabels) {
			t.Errorf("PodDisruptionBudget: minAvailable %v selector %v, want 1 selecting the bot pods %v", p.MinAvailable, p.Selector.MatchLabels, podLabels)
		}
	}

}

// deployCheckRedis checks the Redis a variant points the bot at: REDIS_MODE
// in the ConfigMap and REDIS_URL in the Secret, a URL config.ParseRedis
// accepts for that mode with only placeholder passwords, and for the trial
// the Redis pod itself; the overlays bring no Redis of their own.
func deployCheckRedis(t *testing.T, objs []*deployObject, mode string) {
	cm := deployFind(objs, "ConfigMap", "runjob-config")
	sec := deployFind(objs, "Secret", "runjob-secrets")
	if cm == nil || sec == nil {
		t.Fatal("no ConfigMap runjob-config or no Secret runjob-secrets")
	}
	if got := cm.Data["REDIS_MODE"]; got != mode {
		t.Errorf("ConfigMap runjob-config: REDIS_MODE = %q, want %q", got, mode)
	}
	rawURL, ok := sec.StringData["REDIS_URL"]
	if !ok {
		t.Fatal("Secret runjob-secrets has no REDIS_URL")
	}
	deployCheckURLPasswords(t, rawURL)
	r, err := config.ParseRedis(cm.Data["REDIS_MODE"], rawURL)
	if err != nil {
		t.Fatalf("REDIS_MODE=%s with the Secret's REDIS_URL: %v", mode, err)
	}

	var redisObjs []string
	for _, o := range objs {
		if o.Metadata.Labels["app.kubernetes.io/component"] == "redis" {
			redisObjs = append(redisObjs, o.Kind+"/"+o.Metadata.Name)
		}
	}
	switch mode {
	case config.RedisSentinel:
		if len(r.Sentinel.SentinelAddrs) < 3 {
			t.Errorf("REDIS_URL names %d sentinels (%v); list all of them, at least 3", len(r.Sentinel.SentinelAddrs), r.Sentinel.SentinelAddrs)
		}
	case config.RedisCluster:
		if len(r.Cluster.Addrs) < 3 {
			t.Errorf("REDIS_URL names %d seed nodes (%v); list a few, at least 3", len(r.Cluster.Addrs), r.Cluster.Addrs)
		}
		// Unset, the bot's cluster default applies ("{runjob}:").
		if prefix, set := cm.Data["REDIS_PREFIX"]; set && !deployOneHashTag(prefix) {
			t.Errorf("REDIS_PREFIX = %q on a Redis Cluster: it must hold exactly one non-empty {hash tag}, so that all the bot's keys share one slot", prefix)
		}
	}
	if mode != config.RedisSingle {
		if len(redisObjs) > 0 {
			t.Errorf("the %s overlay still holds the trial Redis: %v", mode, redisObjs)
		}
		return
	}

	// The trial Redis: the Secret's URL reaches its Service, and it
	// persists and never evicts.
	host, port, _ := strings.Cut(r.Single.Addr, ":")
	if svc := deployFind(objs, "Service", host); svc == nil || svc.Metadata.Labels["app.kubernetes.io/component"] != "redis" {
		t.Errorf("REDIS_URL points at %s, which is not the trial Redis' Service", r.Single.Addr)
	} else {
		var s struct {
			Ports []struct {
				Port int `yaml:"port"`
			} `yaml:"ports"`
		}
		deployDecode(t, svc.file, &svc.Spec, &s)
		if len(s.Ports) == 0 || fmt.Sprint(s.Ports[0].Port) != port {
			t.Errorf("REDIS_URL points at port %s; Service %s serves %+v", port, host, s.Ports)
		}
	}
	sts := deployFind(objs, "StatefulSet", "")
	if sts == nil {
		t.Fatal("no Redis StatefulSet")
	}
	var s struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Command   []string `yaml:"command"`
					Args      []string `yaml:"args"`
					Resources struct {
						Limits map[string]string `yaml:"limits"`
					} `yaml:"resources"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []any `yaml:"volumeClaimTemplates"`
	}
	deployDecode(t, sts.file, &sts.Spec, &s)
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("Redis StatefulSet has %d containers, want 1", len(s.Template.Spec.Containers))
	}
	c := s.Template.Spec.Containers[0]
	args := append(slices.Clone(c.Command), c.Args...)
	if !deployAppendOnly(args) || len(s.VolumeClaimTemplates) == 0 {
		t.Errorf("Redis StatefulSet: args %v, %d volume claims; want --appendonly yes and a PVC", args, len(s.VolumeClaimTemplates))
	}
	if got := deployRedisArg(args, "--maxmemory-policy"); got != "noeviction" {
		t.Errorf("Redis StatefulSet: --maxmemory-policy %q, want noeviction (Redis is the source of truth: a key must never be evicted)", got)
	}
	// noeviction refuses writes only once Redis reaches maxmemory: without
	// it, or above the container's limit, the kernel kills Redis first.
	maxmem, limit := deployBytes(deployRedisArg(args, "--maxmemory")), deployBytes(c.Resources.Limits["memory"])
	if maxmem <= 0 || limit <= 0 || maxmem >= limit {
		t.Errorf("Redis StatefulSet: --maxmemory %q and memory limit %q: want a maxmemory below the limit", deployRedisArg(args, "--maxmemory"), c.Resources.Limits["memory"])
	}
}

// deployRedisArg is the value redis-server arguments give to a flag
// ("--flag value"), or "".
func deployRedisArg(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, flag+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// deployBytes reads a Redis size (192mb, 1gb) or a Kubernetes quantity
// (256Mi, 1Gi); 0 when it is neither.
func deployBytes(s string) int64 {
	units := []struct {
		suffix string
		n      int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				return 0
			}
			return n * u.n
		}
	}
	return 0
}

// deployOneHashTag reports whether a key prefix holds exactly one non-empty
// Redis hash tag ("{runjob}:").
func deployOneHashTag(prefix string) bool {
	i, j := strings.Index(prefix, "{"), strings.Index(prefix, "}")
	return strings.Count(prefix, "{") == 1 && strings.Count(prefix, "}") == 1 && i >= 0 && j > i+1
}

// deployCheckURLPasswords fails when a Redis URL holds a password that is
// not an obvious placeholder: the files are templates.
func deployCheckURLPasswords(t *testing.T, rawURL string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Errorf("REDIS_URL is not a URL: %v", err)
		return
	}
	var secrets []string
	if p, ok := u.User.Password(); ok {
		secrets = append(secrets, p)
	}
	for k, vs := range u.Query() {
		if strings.Contains(strings.ToLower(k), "password") {
			secrets = append(secrets, vs...)
		}
	}
	for _, s := range secrets {
		if s != "" && !deployPlaceholder(s) {
			t.Errorf("REDIS_URL holds a password that is not a CHANGE-ME placeholder (%d characters)", len(s))
		}
	}
}

// deployAppendOnly reports whether redis-server arguments turn the AOF on.
func deployAppendOnly(args []string) bool {
	for i, a := range args {
		if a == "--appendonly" && i+1 < len(args) && args[i+1] == "yes" {
			return true
		}
		if a == "--appendonly yes" || strings.Contains(a, "appendonly yes") {
			return true
		}
	}
	return false
}

func TestDeploySlackManifest(t *testing.T) {
	path := filepath.Join(deployDir, "slack-app-manifest.yaml")
	docs := deployYAMLDocs(t, path)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", path, len(docs))
	}
	var m struct {
		DisplayInformation struct {
			Name string `yaml:"name"`
		} `yaml:"display_information"`
		Features struct {
			BotUser struct {
				DisplayName string `yaml:"display_name"`
			} `yaml:"bot_user"`
			SlashCommands []struct {
				Command      string  `yaml:"command"`
				Description  string  `yaml:"description"`
				URL          string  `yaml:"url"`
				ShouldEscape *bool   `yaml:"should_escape"`
				UsageHint    *string `yaml:"usage_hint"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuthConfig struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Interactivity struct {
				IsEnabled  bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			} `yaml:"interactivity"`
			SocketModeEnabled bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	deployDecode(t, path, docs[0], &m)

	if m.DisplayInformation.Name == "" || m.Features.BotUser.DisplayName == "" {
		t.Error("the manifest needs display_information.name and features.bot_user.display_name")
	}
	if !m.Settings.SocketModeEnabled {
		t.Error("settings.socket_mode_enabled is not true")
	}
	if !m.Settings.Interactivity.IsEnabled {
		t.Error("settings.interactivity.is_enabled is not true (the Re-run and Stop buttons)")
	}
	if m.Settings.Interactivity.RequestURL != "" {
		t.Error("interactivity has a request_url; Socket Mode needs none")
	}
	runjob := false
	for _, c := range m.Features.SlashCommands {
		if c.Command != "/runjob" {
			continue
		}
		runjob = true
		if c.Description == "" || c.UsageHint == nil || c.ShouldEscape == nil {
			t.Errorf("/runjob should have a description, usage_hint and should_escape: %+v", c)
		}
		if c.URL != "" {
			t.Errorf("/runjob has url %q; Socket Mode needs none", c.URL)
		}
	}
	if !runjob {
		t.Error("features.slash_commands does not declare /runjob")
	}
	for _, s := range []string{"commands", "chat:write"} {
		if !slices.Contains(m.OAuthConfig.Scopes.Bot, s) {
			t.Errorf("oauth_config.scopes.bot %v lacks %s", m.OAuthConfig.Scopes.Bot, s)
		}
	}
}

// deployInstruction is one Dockerfile instruction, continuation lines joined.
type deployInstruction struct{ cmd, args string }

func deployParseDockerfile(t *testing.T, path string) []deployInstruction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		out     []deployInstruction
		pending strings.Builder
	)
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue // comments and blank lines may sit inside a continued RUN
		}
		if strings.HasSuffix(trimmed, "\\") {
			pending.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		pending.WriteString(trimmed)
		cmd, args, _ := strings.Cut(pending.String(), " ")
		out = append(out, deployInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		pending.Reset()
	}
	if pending.Len() > 0 {
		t.Errorf("%s ends inside a continued line", path)
	}
	return out
}

func TestDeployDockerfile(t *testing.T) {
	path := filepath.Join(deployDir, "Dockerfile")
	ins := deployParseDockerfile(t, path)

	var stages [][]deployInstruction // instructions of each stage, FROM first
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d FROM stages, want a build stage and a final stage", len(stages))
	}

	final := stages[len(stages)-1]
	image := strings.Fields(final[0].args)[0]
	if !strings.Contains(image, "distroless/static") && image != "scratch" {
		t.Errorf("final stage is FROM %s, want distroless/static or scratch", image)
	}
	user := ""
	var entrypoint string
	var exposed []string
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in.args)...)
		}
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("final stage USER is %q, want a non-root user", user)
	}
	if entrypoint != `["/runjob-bot"]` {
		t.Errorf("ENTRYPOINT is %s, want [\"/runjob-bot\"]", entrypoint)
	}
	if !slices.Contains(exposed, "8080") {
		t.Errorf("EXPOSE %v lacks 8080 (HTTP_ADDR's default)", exposed)
	}

	built := false
	for _, stage := range stages[:len(stages)-1] {
		cgoOff := false
		for _, in := range stage {
			if (in.cmd == "ENV" || in.cmd == "ARG" || in.cmd == "RUN") && strings.Contains(in.args, "CGO_ENABLED=0") {
				cgoOff = true
			}
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") && strings.Contains(in.args, "./cmd/runjob-bot") {
				built = true
				if !cgoOff {
					t.Errorf("the go build of ./cmd/runjob-bot does not run with CGO_ENABLED=0: %s", in.args)
				}
				if !strings.Contains(in.args, "-X main.version=") {
					t.Errorf("the go build does not set main.version: %s", in.args)
				}
			}
		}
	}
	if !built {
		t.Error("no build stage runs go build ... ./cmd/runjob-bot")
	}
}
