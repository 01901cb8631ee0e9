package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/commands"
)

func TestLoadExample(t *testing.T) {
	p, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var names []string
	for _, pr := range p.Presets() {
		names = append(names, pr.Name)
	}
	if want := []string{"backfill", "nightly", "sandbox"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Presets() names = %q, want %q", names, want)
	}
	nightly, ok := p.Preset("NightLy")
	if !ok {
		t.Fatalf("Preset(NightLy) not found")
	}
	want := Preset{
		Name:             "nightly",
		Description:      "Nightly load of the orders warehouse",
		ClusterID:        52,
		PackageID:        434,
		Variables:        map[string]string{"MODE": "full", "SFTP_PASS": "s3cr3t", "LIMIT": ""},
		DynamicVariables: map[string]string{"RUN_DATE": "CurrentTime()"},
		SecretVariables:  []string{"SFTP_PASS"},
		MaxRuntime:       2 * time.Hour,
	}
	if !reflect.DeepEqual(nightly, want) {
		t.Errorf("Preset(nightly) = %+v, want %+v", nightly, want)
	}
	if !p.HasRules() {
		t.Errorf("HasRules() = false, want true")
	}
	if !p.UsesGroups() {
		t.Errorf("UsesGroups() = false, want true")
	}
	if got := p.ConfirmWithin(); got != 2*time.Minute {
		t.Errorf("ConfirmWithin() = %v, want 2m", got)
	}
	if got, want := p.SecretVariables(), []string{"DB_URL", "SFTP_PASS"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SecretVariables() = %q, want %q", got, want)
	}
	if got := p.SecretPattern(); got != DefaultSecretPattern {
		t.Errorf("SecretPattern() = %q, want the default", got)
	}
	if !p.Secrets().IsSecret("db_url") || p.Secrets().IsSecret("MODE") {
		t.Errorf("Secrets(): DB_URL should be secret and MODE not")
	}

	// The example's rules, as the package comment describes them.
	for _, c := range []struct {
		s    Subject
		t    commands.Run
		want Decision
	}{
		{Subject{User: "U0ANYONE1", Channel: "C012AB3CD", Groups: []string{"S0DATATEAM"}}, commands.Run{ClusterID: 53, PackageID: 9},
			Decision{Allowed: true, Rule: "data-team"}},
		{Subject{User: "U0ANYONE1", Channel: "C012AB3CD", Groups: []string{"S0DATATEAM"}}, commands.Run{Preset: "nightly"},
			Decision{Allowed: true, Confirm: true, Rule: "data-team", Reason: "cluster 52 and package 434 are protected"}},
		{Subject{User: "W0ONCALL1", Channel: "D0DIRECT1"}, commands.Run{Preset: "backfill"},
			Decision{Allowed: true, Confirm: true, Rule: "on-call", Reason: "package 434 is protected"}},
		{Subject{User: "W0ONCALL1", Channel: "D0DIRECT1"}, commands.Run{Preset: "sandbox"},
			Decision{Reason: "no rule lets you run the preset sandbox in this channel"}},
		{Subject{User: "U0ANYONE1", Channel: "C0SANDBOX"}, commands.Run{Preset: "sandbox"},
			Decision{Allowed: true, Rule: "sandbox-for-everyone"}},
		{Subject{User: "U0ANYONE1", Channel: "C0SANDBOX"}, commands.Run{ClusterID: 52, PackageID: 501},
			Decision{Reason: "no rule lets you run package 501 on cluster 52"}},
	} {
		if got := p.Decide(c.s, c.t); got != c.want {
			t.Errorf("Decide(%+v, %+v) = %+v, want %+v", c.s, c.t, got, c.want)
		}
	}
}

// The README shows testdata/example.yaml (without its header comment) as the
// policy to start from; a copy that drifts from the tested file would teach a
// shape Parse refuses.
func TestREADMEShowsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(example), "\n\n")
	if !strings.Contains(string(readme), "```yaml\n"+body+"```\n") {
		t.Errorf("README.md does not show testdata/example.yaml below its header comment")
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "\n", "# only a comment\n", "---\n", "~\n", "{}\n", "presets:\nprotected:\n"} {
		p, err := Parse("policy.yaml", []byte(src))
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		if p == nil {
			t.Errorf("Parse(%q) = nil policy", src)
			continue
		}
		if len(p.Presets()) != 0 || p.HasRules() || p.UsesGroups() || p.SecretVariables() != nil {
			t.Errorf("Parse(%q) is not empty", src)
		}
		if d := p.Decide(Subject{User: "U1", Channel: "C1"}, commands.Run{ClusterID: 1, PackageID: 2}); d != (Decision{Allowed: true}) {
			t.Errorf("Parse(%q).Decide = %+v, want allowed", src, d)
		}
		if got := p.ConfirmWithin(); got != DefaultConfirmWithin {
			t.Errorf("Parse(%q).ConfirmWithin() = %v, want %v", src, got, DefaultConfirmWithin)
		}
	}
}

func TestParseValid(t *testing.T) {
	src := `
presets:
  a:
    cluster: 0x10        # any YAML int
    package: 7
    description:         # empty is allowed
    variables: &vars
      RATE: 1.50         # kept as written
      DATE: 2026-11-01
      FLAG: true
      EMPTY: ""
  B-2_x:
    cluster: 1
    package: 2
    variables: *vars
rules:
  - users: &team [U0AAA, W0BBB]
    channels: [C0OPS]
    presets: a
  - users: *team
    channels: "*"
    presets: [A, b-2_X]
  - users: "*"
    channels: [C0OPS, G0PRIV, D0DM]
    packages: "*"
    clusters: ["*", 4]
protected:
  clusters: "*"
  packages: []
  confirm_within: 15m
secret_pattern: '^$'
`
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	a, ok := p.Preset("A")
	if !ok {
		t.Fatalf("Preset(A) not found")
	}
	wantVars := map[string]string{"RATE": "1.50", "DATE": "2026-11-01", "FLAG": "true", "EMPTY": ""}
	if a.ClusterID != 16 || a.PackageID != 7 || a.Description != "" || !reflect.DeepEqual(a.Variables, wantVars) {
		t.Errorf("Preset(A) = %+v", a)
	}
	if _, ok := p.Preset("c"); ok {
		t.Errorf("Preset(c) found a preset that is not in the file")
	}
	b, _ := p.Preset("b-2_x")
	if b.Name != "B-2_x" || !reflect.DeepEqual(b.Variables, wantVars) {
		t.Errorf("Preset(b-2_x) = %+v, want the aliased variables", b)
	}
	if got := p.ConfirmWithin(); got != 15*time.Minute {
		t.Errorf("ConfirmWithin() = %v", got)
	}
	if p.UsesGroups() {
		t.Errorf("UsesGroups() = true, want false")
	}
	if p.Secrets().IsSecret("PASSWORD") {
		t.Errorf("with secret_pattern '^$', PASSWORD should not be secret")
	}
	if d := p.Decide(Subject{User: "W0BBB", Channel: "C0X"}, commands.Run{Preset: "b-2_x"}); !d.Allowed || d.Rule != "rule 2" || !d.Confirm {
		t.Errorf("Decide(alias user, preset) = %+v, want allowed by rule 2 with confirmation", d)
	}
	if d := p.Decide(Subject{User: "U0ZZZ", Channel: "D0DM"}, commands.Run{ClusterID: 99, PackageID: 1}); !d.Allowed || d.Rule != "rule 3" {
		t.Errorf("Decide(everyone in listed channels) = %+v, want allowed by rule 3", d)
	}

	// Returned presets are copies: changing one changes nothing in the policy.
	a.Variables["RATE"] = "2"
	if again, _ := p.Preset("a"); again.Variables["RATE"] != "1.50" {
		t.Errorf("changing a returned preset changed the policy")
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", MaxNameLen+1)
	var manyVars strings.Builder
	for i := range MaxVariables + 1 {
		manyVars.WriteString("      V" + strings.Repeat("x", i%3) + string(rune('A'+i%26)) + string(rune('A'+i/26)) + ": x\n")
	}
	tests := []struct {
		name string
		src  string
		line int
		msg  string
	}{
		// YAML itself.
		{"syntax, parser", "presets:\n  nightly: [52\n", 2, "not valid YAML: did not find expected ',' or ']'"},
		{"syntax, parser at line 1", "- 1\n- 2\nc: 3\n", 3, "not valid YAML: did not find expected '-' indicator"},
		{"syntax, block", "rules:\n  - users: ['*']\n  presets: ['*']\n", 2, "not valid YAML: did not find expected '-' indicator"},
		{"syntax, scanner", "presets:\n  nightly:\n    cluster: 52: 3\n", 3, "not valid YAML: mapping values are not allowed in this context"},
		{"syntax, tab", "presets:\n\tnightly: {}\n", 2, "not valid YAML: found character that cannot start any token"},
		{"syntax, bare star", "rules:\n  - users: [*]\n    presets: ['*']\n", 2, "not valid YAML: did not find expected alphabetic or numeric character"},
		{"unknown anchor", "rules:\n  - users: ['*']\n    presets: *all\n", 3, "not valid YAML: unknown anchor 'all' referenced"},
		{"two documents", "presets: {}\n---\nrules: []\n", 2, "a second YAML document starts here; the policy is one document"},
		{"not a mapping", "- presets\n", 1, "the policy file must be a mapping with keys like presets: and rules:, not a list"},
		{"duplicate key", "presets: {}\nrules:\n  - users: '*'\n    channels: '*'\n    presets: '*'\npresets: {}\n", 6, `"presets" is given twice (first at line 1)`},
		{"complex key", "presets: {}\n? [a, b]\n: 1\n", 2, "keys must be plain names, not a list"},
		{"merge key", "presets:\n  a: &a {cluster: 1, package: 2}\n  b:\n    <<: *a\n", 4, `preset "b": merge keys (<<) are not supported; write the keys out`},

		// Unknown keys.
		{"unknown top key, near", "\nrule:\n  - users: ['*']\n", 2, `unknown key "rule" (did you mean "rules"?)`},
		{"unknown top key, far", "owner: me\n", 1, `unknown key "owner"; the keys are secret_pattern, secret_variables, presets, rules, protected`},
		{"unknown top key, dash", "secret-variables: [X]\n", 1, `unknown key "secret-variables" (did you mean "secret_variables"?)`},
		{"unknown preset key", "presets:\n  nightly:\n    clustr: 52\n    package: 434\n", 3, `preset "nightly": unknown key "clustr" (did you mean "cluster"?)`},
		{"unknown rule key", "rules:\n  - name: ops\n    user: [U1]\n    presets: ['*']\n", 3, `rule "ops": unknown key "user" (did you mean "users"?)`},
		{"unknown protected key", "protected:\n  confirm: 2m\n", 2, `protected: unknown key "confirm"; the keys are clusters, packages, confirm_within`},

		// Presets.
		{"presets not a mapping", "presets: [nightly]\n", 1, "presets must be a mapping from preset name to preset, not a list"},
		{"preset not a mapping", "presets:\n  nightly: 52\n", 2, `preset "nightly" must be a mapping with cluster:, package: and the rest, not a single value`},
		{"duplicate preset", "presets:\n  nightly: {cluster: 1, package: 2}\n  other: {cluster: 1, package: 2}\n  nightly: {cluster: 1, package: 2}\n", 4, `presets: "nightly" is given twice (first at line 2)`},
		{"presets differing in case", "presets:\n  nightly: {cluster: 1, package: 2}\n  Nightly: {cluster: 1, package: 2}\n", 3, `preset "Nightly" clashes with the preset at line 2: preset names are compared without case`},
		{"preset name shape", "presets:\n  9lives: {cluster: 1, package: 2}\n", 2, `preset "9lives": a preset name starts with a letter, then letters, digits, _ and -`},
		{"preset name dot", "presets:\n  night.ly: {cluster: 1, package: 2}\n", 2, `preset "night.ly": a preset name starts with a letter, then letters, digits, _ and -`},
		{"preset name too long", "presets:\n  " + long + ": {cluster: 1, package: 2}\n", 2, `preset "` + long + `": a preset name has at most 64 characters`},
		{"preset name is a sub-command", "presets:\n  Status: {cluster: 1, package: 2}\n", 2, `preset "Status": "status" is a /runjob sub-command or key (help, status, stop, rerun, list, form, packages, clusters, notify, cluster, package), so it cannot name a preset`},
		{"preset name is a key", "presets:\n  package: {cluster: 1, package: 2}\n", 2, `preset "package": "package" is a /runjob sub-command or key (help, status, stop, rerun, list, form, packages, clusters, notify, cluster, package), so it cannot name a preset`},
		{"cluster zero", "presets:\n  nightly:\n    cluster: 0\n    package: 434\n", 3, `preset "nightly": cluster must be an id (a positive whole number) or a name of at most 255 characters`},
		{"cluster negative", "presets:\n  nightly:\n    cluster: -52\n    package: 434\n", 3, `preset "nightly": cluster must be an id (a positive whole number) or a name of at most 255 characters`},
		{"cluster quoted", "presets:\n  nightly:\n    cluster: \"52\"\n    package: 434\n", 3, `preset "nightly": cluster must be an id (a positive whole number) or a name of at most 255 characters`},
		{"cluster float", "presets:\n  nightly:\n    cluster: 52.5\n    package: 434\n", 3, `preset "nightly": cluster must be an id (a positive whole number) or a name of at most 255 characters`},
		{"package too big", "presets:\n  nightly:\n    cluster: 52\n    package: 99999999999999999999\n", 4, `preset "nightly": package must be an id (a positive whole number) or a name of at most 255 characters`},
		{"package list", "presets:\n  nightly:\n    cluster: 52\n    package: [434]\n", 4, `preset "nightly": package must be an id (a positive whole number) or a name of at most 255 characters`},
		{"cluster missing", "presets:\n  x: {cluster: 1, package: 2}\n  nightly:\n    package: 434\n", 3, `preset "nightly": cluster is missing`},
		{"empty preset", "presets:\n  nightly:\n", 2, `preset "nightly": cluster is missing`},
		{"description a list", "presets:\n  nightly:\n    description: [a]\n    cluster: 1\n    package: 2\n", 3, `preset "nightly": description must be a single value, not a list`},

		// Variables.
		{"variable name", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables:\n      1DATE: x\n", 6, `preset "n": variables: "1DATE" is not a variable name: it starts with a letter or _, then letters, digits and _`},
		{"variable name dash", "presets:\n  n:\n    cluster: 1\n    package: 2\n    dynamic_variables: {RUN-DATE: x}\n", 5, `preset "n": dynamic_variables: "RUN-DATE" is not a variable name: it starts with a letter or _, then letters, digits and _`},
		{"variable named cluster", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables:\n      Cluster: x\n", 6, `preset "n": variables: "Cluster" cannot be a variable: /runjob reads it as the run's cluster`},
		{"variable name too long", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables:\n      " + long + ": x\n", 6, `preset "n": variables: "` + long + `" is longer than 64 characters`},
		{"variable without value", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables:\n      MODE:\n", 6, `preset "n": variables: MODE has no value; write MODE: "" for an empty one`},
		{"variable a list", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables:\n      MODE:\n        - a\n", 7, `preset "n": variables: MODE must be a single value, not a list`},
		{"variable too long", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables:\n      MODE: " + strings.Repeat("x", MaxValueLen+1) + "\n", 6, `preset "n": variables: MODE is longer than 1000 characters`},
		{"variables a list", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables: [MODE]\n", 5, `preset "n": variables must be a mapping of NAME: value, not a list`},
		{"duplicate variable", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables:\n      MODE: a\n      MODE: b\n", 7, `preset "n": variables: "MODE" is given twice (first at line 6)`},
		{"dynamic without expression", "presets:\n  n:\n    cluster: 1\n    package: 2\n    dynamic_variables:\n      NOW: ~\n", 6, `preset "n": dynamic_variables: NOW has no expression`},
		{"dynamic empty expression", "presets:\n  n:\n    cluster: 1\n    package: 2\n    dynamic_variables:\n      NOW: \" \"\n", 6, `preset "n": dynamic_variables: NOW has an empty expression`},
		{"variable in both maps", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables: {NOW: x}\n    dynamic_variables:\n      NOW: CurrentTime()\n", 7, `preset "n": NOW is in variables (line 5) and in dynamic_variables; a name goes in one of them`},
		{"too many variables", "presets:\n  n:\n    cluster: 1\n    package: 2\n    variables:\n" + manyVars.String(), 2, `preset "n" sets 51 variables; a run may set at most 50`},
		{"preset secret name", "presets:\n  n:\n    cluster: 1\n    package: 2\n    secret_variables: [OK, not-ok]\n", 5, `preset "n": secret_variables: "not-ok" is not a variable name: it starts with a letter or _, then letters, digits and _`},

		// Secrets.
		{"secret name", "secret_variables:\n  - DB_URL\n  - DB URL\n", 3, `secret_variables: "DB URL" is not a variable name: it starts with a letter or _, then letters, digits and _`},
		{"secret name a mapping", "secret_variables:\n  - {A: b}\n", 2, `secret_variables: a mapping is not a variable name`},
		{"secret pattern", "\nsecret_pattern: '(PASS'\n", 2, "secret_pattern is not a valid regular expression: error parsing regexp: missing closing ): `(PASS`"},
		{"secret pattern a list", "secret_pattern: [PASS]\n", 1, "secret_pattern must be a single value, not a list"},
		{"secret pattern empty", "secret_pattern: ''\n", 1, "secret_pattern is empty; leave it out for the default, or write '^$' to rely on secret_variables only"},

		// Rules.
		{"rules empty list", "presets: {}\nrules: []\n", 2, "rules is empty, which would allow nothing; add a rule, or remove rules: to allow every run"},
		{"rules null", "rules:\n", 1, "rules is empty, which would allow nothing; add a rule, or remove rules: to allow every run"},
		{"rules a mapping", "rules:\n  ops: {}\n", 2, "rules must be a list of rules, each starting with -"},
		{"rule not a mapping", "rules:\n  - ops\n", 2, "rule 1 must be a mapping with keys like users: and presets:, not a single value"},
		{"bad user id", "rules:\n  - name: ops\n    users: [U012AB3CD, alice]\n    presets: ['*']\n", 3, `rule "ops": users: "alice" is not a Slack user id (like U012AB3CD) or "*"; a member's id is in their profile, under ⋮ → Copy member ID`},
		{"user id lower case", "rules:\n  - users:\n      - u012ab3cd\n    presets: ['*']\n", 3, `rule 1: users: "u012ab3cd" is not a Slack user id (like U012AB3CD) or "*"; a member's id is in their profile, under ⋮ → Copy member ID`},
		{"channel id is a user", "rules:\n  - users: ['*']\n    channels: ['*']\n    presets: ['*']\n  - users: ['*']\n    channels: [U012AB3CD]\n    presets: ['*']\n", 6, `rule 2: channels: "U012AB3CD" is not a Slack channel id (like C012AB3CD) or "*"; a channel's id is at the bottom of its details`},
		{"channel name", "rules:\n  - channels: ['#general']\n    presets: ['*']\n", 2, `rule 1: channels: "#general" is not a Slack channel id (like C012AB3CD) or "*"; a channel's id is at the bottom of its details`},
		{"group handle", "rules:\n  - groups: ['@data-team']\n    presets: ['*']\n", 2, `rule 1: groups: "@data-team" is not a Slack user group id (like S0123ABCD)`},
		{"group star", "rules:\n  - groups: ['*']\n    presets: ['*']\n", 2, `rule 1: groups: "*" is not allowed here; write users: ["*"] to match everyone`},
		{"users a mapping", "rules:\n  - users: {U1: yes}\n    presets: ['*']\n", 2, `rule 1: users must be a list, not a mapping`},
		{"empty users", "rules:\n  - name: ops\n    users: []\n    channels: ['*']\n    presets: ['*']\n", 3, `rule "ops": users is empty; list user ids, or write users: ["*"] for everyone`},
		{"empty groups", "rules:\n  - users: ['*']\n    groups: []\n    channels: ['*']\n    presets: ['*']\n", 3, `rule 1: groups is empty; list something, or leave the key out`},
		{"null channels", "rules:\n  - users: ['*']\n    channels:\n    presets: ['*']\n", 3, `rule 1: channels is empty; list channel ids, or write channels: ["*"] for every channel`},
		{"unknown preset, near", "presets:\n  nightly: {cluster: 1, package: 2}\nrules:\n  - users: ['*']\n    presets: [nightly, nighty]\n", 5, `rule 1: presets: there is no preset "nighty" (did you mean "nightly"?)`},
		{"unknown preset, far", "rules:\n  - users: ['*']\n    presets: [weekly]\n", 3, `rule 1: presets: there is no preset "weekly"`},
		{"preset ref a list", "rules:\n  - users: ['*']\n    presets: [[a]]\n", 3, `rule 1: presets: a list is not a preset name`},
		{"rule before its preset", "rules:\n  - users: ['*']\n    presets: [nighty]\npresets:\n  nightly: {cluster: 1, package: 2}\n", 3, `rule 1: presets: there is no preset "nighty" (did you mean "nightly"?)`},
		{"bad cluster in rule", "rules:\n  - users: ['*']\n    packages: ['*']\n    clusters: [52, 0]\n", 4, `rule 1: clusters: "0" is not a cluster id (a positive whole number) or "*"`},
		{"bad package in rule", "rules:\n  - users: ['*']\n    packages: [all]\n    clusters: ['*']\n", 3, `rule 1: packages: "all" is not a package id (a positive whole number) or "*"`},
		{"neither who nor where", "\nrules:\n  - name: ops\n    presets: ['*']\n", 3,
			`rule "ops" says neither who nor where: add users: [...] or groups: [...] (users: ["*"] for everyone), and channels: [...] (channels: ["*"] for every channel)`},
		{"where but not who", "rules:\n  - users: ['*']\n    channels: ['*']\n    presets: ['*']\n  - name: ops\n    channels: [C0OPS]\n    packages: [434]\n    clusters: [52]\n", 5,
			`rule "ops" says where (channels) but not who: add users: [...] or groups: [...], or users: ["*"] for everyone`},
		{"where but not who, star", "rules:\n  - channels: '*'\n    presets: ['*']\n", 2,
			`rule 1 says where (channels) but not who: add users: [...] or groups: [...], or users: ["*"] for everyone`},
		{"users but not where", "rules:\n  - name: ops\n    users: [U1]\n    presets: ['*']\n", 2,
			`rule "ops" says who (users) but not where: add channels: [...], or channels: ["*"] for every channel`},
		{"everyone but not where", "rules:\n  - users: '*'\n    presets: ['*']\n", 2,
			`rule 1 says who (users) but not where: add channels: [...], or channels: ["*"] for every channel`},
		{"groups but not where", "rules:\n  - groups: [S0DATA]\n    presets: ['*']\n", 2,
			`rule 1 says who (groups) but not where: add channels: [...], or channels: ["*"] for every channel`},
		{"users and groups but not where", "rules:\n  - groups: [S0DATA]\n    users: [U1]\n    presets: ['*']\n", 2,
			`rule 1 says who (users and groups) but not where: add channels: [...], or channels: ["*"] for every channel`},
		{"allows nothing", "rules:\n  - users: ['*']\n    channels: ['*']\n    presets: ['*']\n  - name: empty\n    users: [U0ONE]\n    channels: [C0ONE]\n", 5, `rule "empty" allows nothing; give presets, or packages and clusters`},
		{"packages without clusters", "rules:\n  - users: ['*']\n    channels: ['*']\n    presets: ['*']\n    packages: [434]\n", 2, `rule 1: packages needs clusters too (clusters: ["*"] for any cluster)`},
		{"clusters without packages", "rules:\n  - users: ['*']\n    channels: ['*']\n    clusters: [52]\n", 2, `rule 1: clusters needs packages too (packages: ["*"] for any package)`},
		{"duplicate rule name", "rules:\n  - name: ops\n    users: ['*']\n    channels: ['*']\n    presets: ['*']\n  - name: ops\n    users: ['*']\n    channels: ['*']\n    presets: ['*']\n", 6, `rule "ops": another rule has this name (line 2); rule names are unique`},
		{"empty rule name", "rules:\n  - name: ''\n    users: ['*']\n    presets: ['*']\n", 2, `rule 1: name is empty`},

		// Protected.
		{"protected a list", "protected: [52]\n", 1, "protected must be a mapping with clusters:, packages: and confirm_within:, not a list"},
		{"protected cluster", "protected:\n  clusters: [52, -1]\n", 2, `protected: clusters: "-1" is not a cluster id (a positive whole number) or "*"`},
		{"max_runtime a number", "presets:\n  n:\n    cluster: 1\n    package: 2\n    max_runtime: 90\n", 5, `preset "n": max_runtime must be a duration like 2h or 45m`},
		{"max_runtime too long", "presets:\n  n:\n    cluster: 1\n    package: 2\n    max_runtime: 200h\n", 5, `preset "n": max_runtime must be between 1s and 168h`},
		{"confirm too short", "protected:\n  clusters: [52]\n  confirm_within: 5s\n", 3, "protected: confirm_within must be between 10s and 15m"},
		{"confirm too long", "protected:\n  confirm_within: 1h\n", 2, "protected: confirm_within must be between 10s and 15m"},
		{"confirm a number", "protected:\n  confirm_within: 120\n", 2, "protected: confirm_within must be a duration like 2m or 90s"},
		{"confirm a word", "protected:\n  confirm_within: soon\n", 2, "protected: confirm_within must be a duration like 2m or 90s"},

		// The first problem from the top is reported.
		{"first of several", "presets:\n  a: {cluster: 0, package: 2}\n  b: {cluster: 1, package: 0}\nrules: []\n", 2, `preset "a": cluster must be an id (a positive whole number) or a name of at most 255 characters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("policy.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error at line %d", tt.line)
			}
			if p != nil {
				t.Errorf("Parse returned a policy with its error")
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if pe.File != "policy.yaml" || pe.Line != tt.line || pe.Msg != tt.msg {
				t.Errorf("error = %q at %s:%d\nwant    %q at policy.yaml:%d", pe.Msg, pe.File, pe.Line, tt.msg, tt.line)
			}
		})
	}
}

func TestParseAliasBomb(t *testing.T) {
	// Every preset below stands for the whole first one: without a bound on
	// what aliases expand to, a small file could make parsing take long.
	var b strings.Builder
	b.WriteString("presets:\n  p0: &p\n    cluster: 1\n    package: 2\n    variables:\n")
	for i := range 40 {
		fmt.Fprintf(&b, "      V%d: x\n", i)
	}
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&b, "  p%d: *p\n", i)
	}
	_, err := Parse("policy.yaml", []byte(b.String()))
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Parse = %v, want an *Error", err)
	}
	if !strings.HasPrefix(pe.Msg, "aliases here stand for more than 100000 values in all") || pe.Line < 45 || pe.Line > 2045 {
		t.Errorf("error = %q at line %d, want the alias bound on an alias line", pe.Msg, pe.Line)
	}

	// A few aliases are fine.
	if _, err := Parse("policy.yaml", []byte(strings.Join(strings.Split(b.String(), "\n")[:60], "\n"))); err != nil {
		t.Errorf("Parse with a few aliases: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.yaml")
	_, err := Load(missing)
	var pe *Error
	if !errors.As(err, &pe) || pe.File != missing || pe.Line != 0 {
		t.Fatalf("Load(missing) = %v, want an *Error naming the file without a line", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) error does not wrap fs.ErrNotExist: %v", err)
	}
	if want := missing + ": cannot read the policy file: no such file or directory"; err.Error() != want {
		t.Errorf("Load(missing) = %q, want %q", err.Error(), want)
	}

	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", MaxFileSize+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(big) = %v, want a size error", err)
	}

	if _, err := Parse("p.yaml", make([]byte, MaxFileSize+1)); err == nil || err.Error() != "p.yaml: the policy file is larger than 1048576 bytes" {
		t.Errorf("Parse(too big) = %v, want a size error", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("presets:\n  nightly:\n    cluster: -1\n    package: 434\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if want := bad + `:3: preset "nightly": cluster must be an id (a positive whole number) or a name of at most 255 characters`; err == nil || err.Error() != want {
		t.Errorf("Load(bad) = %v, want %q", err, want)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "policy.yaml", Line: 12, Msg: "problem"}, "policy.yaml:12: problem"},
		{Error{File: "policy.yaml", Msg: "problem"}, "policy.yaml: problem"},
		{Error{Line: 3, Msg: "problem"}, "line 3: problem"},
		{Error{Msg: "problem"}, "problem"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestParsePresetNames(t *testing.T) {
	p, err := Parse("policy.yaml", []byte("presets:\n  nightly:\n    cluster: prod etl\n    package: orders_daily\n  byid:\n    cluster: 52\n    package: 434\n"))
	if err != nil {
		t.Fatal(err)
	}
	pr, ok := p.Preset("nightly")
	if !ok || pr.ClusterName != "prod etl" || pr.PackageName != "orders_daily" || pr.ClusterID != 0 || pr.PackageID != 0 {
		t.Errorf("nightly = %+v, want names and no ids", pr)
	}
	pr, ok = p.Preset("byid")
	if !ok || pr.ClusterName != "" || pr.PackageName != "" || pr.ClusterID != 52 || pr.PackageID != 434 {
		t.Errorf("byid = %+v, want ids and no names", pr)
	}
	for _, bad := range []string{`"52"`, `"  "`, `"` + strings.Repeat("a", 256) + `"`, "\"a\\tb\""} {
		if _, err := Parse("policy.yaml", []byte("presets:\n  x:\n    cluster: "+bad+"\n    package: 1\n")); err == nil {
			t.Errorf("cluster: %s parsed, want an error", bad)
		}
	}
}
