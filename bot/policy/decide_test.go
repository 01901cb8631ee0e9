package policy

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/commands"
)

const decideSrc = `
presets:
  nightly: {cluster: 52, package: 434, description: Nightly load}
  backfill: {cluster: 53, package: 434}
  sandbox: {cluster: 60, package: 501}
  Report: {cluster: 61, package: 600}
rules:
  - name: admins
    users: [U0ADMIN]
    channels: ["*"]
    presets: ["*"]
    packages: ["*"]
    clusters: ["*"]
  - name: data-team
    groups: [S0DATA]
    channels: [C0DATA]
    presets: [nightly, backfill]
    packages: [434]
    clusters: [52, 53]
  - name: ops-anywhere
    users: [U0OPS]
    channels: ["*"]
    presets: [report]
  - name: sandbox-channel
    users: ["*"]
    channels: [C0SANDBOX]
    presets: [sandbox]
    packages: ["*"]
    clusters: [60]
protected:
  clusters: [52]
  packages: [600]
`

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func TestDecide(t *testing.T) {
	p := mustParse(t, decideSrc)
	var (
		admin   = Subject{User: "U0ADMIN", Channel: "C0ANY"}
		data    = Subject{User: "U0DATA", Channel: "C0DATA", Groups: []string{"S0OTHER", "S0DATA"}}
		dataOut = Subject{User: "U0DATA", Channel: "C0ELSE", Groups: []string{"S0DATA"}}
		dataBox = Subject{User: "U0DATA", Channel: "C0SANDBOX", Groups: []string{"S0DATA"}}
		ops     = Subject{User: "U0OPS", Channel: "D0DIRECT"}
		nobody  = Subject{User: "U0NOBODY", Channel: "C0DATA"}
		boxUser = Subject{User: "U0NOBODY", Channel: "C0SANDBOX"}
	)
	tests := []struct {
		name string
		s    Subject
		t    commands.Run
		want Decision
	}{
		// Users and wildcards.
		{"admin, raw", admin, commands.Run{ClusterID: 99, PackageID: 1},
			Decision{Allowed: true, Rule: "admins"}},
		{"admin, any preset", admin, commands.Run{Preset: "sandbox"},
			Decision{Allowed: true, Rule: "admins"}},
		{"admin, raw on a protected cluster", admin, commands.Run{ClusterID: 52, PackageID: 1},
			Decision{Allowed: true, Confirm: true, Rule: "admins", Reason: "cluster 52 is protected"}},
		{"admin, raw on a protected cluster and package", admin, commands.Run{ClusterID: 52, PackageID: 600},
			Decision{Allowed: true, Confirm: true, Rule: "admins", Reason: "cluster 52 and package 600 are protected"}},

		// Groups and channels.
		{"group member, listed channel, preset", data, commands.Run{Preset: "backfill"},
			Decision{Allowed: true, Rule: "data-team"}},
		{"group member, listed channel, raw", data, commands.Run{ClusterID: 53, PackageID: 434},
			Decision{Allowed: true, Rule: "data-team"}},
		{"group member, cluster not listed", data, commands.Run{ClusterID: 54, PackageID: 434},
			Decision{Reason: "no rule lets you run package 434 on cluster 54"}},
		{"group member, package not listed", data, commands.Run{ClusterID: 53, PackageID: 435},
			Decision{Reason: "no rule lets you run package 435 on cluster 53"}},
		{"group member, other channel", dataOut, commands.Run{Preset: "backfill"},
			Decision{Reason: "no rule lets you run the preset backfill in this channel"}},
		{"group member, other channel, raw", dataOut, commands.Run{ClusterID: 53, PackageID: 434},
			Decision{Reason: "no rule lets you run package 434 on cluster 53 in this channel"}},
		{"not in the group", nobody, commands.Run{Preset: "backfill"},
			Decision{Reason: "no rule lets you run the preset backfill"}},
		{"no groups resolved", Subject{User: "U0DATA", Channel: "C0DATA"}, commands.Run{Preset: "backfill"},
			Decision{Reason: "no rule lets you run the preset backfill"}},

		// users: ["*"] with a channel: everyone in that channel.
		{"anyone in the sandbox channel", boxUser, commands.Run{Preset: "sandbox"},
			Decision{Allowed: true, Rule: "sandbox-channel"}},
		{"anyone in the sandbox channel, raw", boxUser, commands.Run{ClusterID: 60, PackageID: 999},
			Decision{Allowed: true, Rule: "sandbox-channel"}},
		{"anyone in the sandbox channel, other cluster", boxUser, commands.Run{ClusterID: 52, PackageID: 501},
			Decision{Reason: "no rule lets you run package 501 on cluster 52"}},
		{"the sandbox elsewhere", data, commands.Run{Preset: "sandbox"},
			Decision{Reason: "no rule lets you run the preset sandbox in this channel"}},
		{"group member in the sandbox channel", dataBox, commands.Run{Preset: "sandbox"},
			Decision{Allowed: true, Rule: "sandbox-channel"}},

		// Presets vs raw runs: a preset allowed by name is enough, and
		// packages/clusters never allow a preset.
		{"preset by name, case-insensitive, protected package", ops, commands.Run{Preset: "REPORT"},
			Decision{Allowed: true, Confirm: true, Rule: "ops-anywhere", Reason: "package 600 is protected"}},
		{"preset's cluster and package as a raw run", ops, commands.Run{ClusterID: 61, PackageID: 600},
			Decision{Reason: "no rule lets you run package 600 on cluster 61"}},
		{"raw rights do not allow a preset", boxUser, commands.Run{Preset: "nightly"},
			Decision{Reason: "no rule lets you run the preset nightly"}},

		// Protection of presets: the preset's cluster and package count, and
		// so do ids the bot passes along (a re-run).
		{"preset on a protected cluster", data, commands.Run{Preset: "nightly"},
			Decision{Allowed: true, Confirm: true, Rule: "data-team", Reason: "cluster 52 is protected"}},
		{"re-run of a preset with its ids", admin, commands.Run{Preset: "sandbox", ClusterID: 52, PackageID: 501},
			Decision{Allowed: true, Confirm: true, Rule: "admins", Reason: "cluster 52 is protected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Decide(tt.s, tt.t); got != tt.want {
				t.Errorf("Decide(%+v, %+v)\n got %+v\nwant %+v", tt.s, tt.t, got, tt.want)
			}
		})
	}
}

func TestDecideFirstRuleWins(t *testing.T) {
	p := mustParse(t, `
rules:
  - name: narrow
    users: [U0A]
    channels: ["*"]
    presets: ["*"]
  - name: wide
    users: ["*"]
    channels: ["*"]
    presets: ["*"]
presets:
  x: {cluster: 1, package: 2}
`)
	if d := p.Decide(Subject{User: "U0A", Channel: "C0"}, commands.Run{Preset: "x"}); d.Rule != "narrow" {
		t.Errorf("Decide(U0A).Rule = %q, want narrow", d.Rule)
	}
	if d := p.Decide(Subject{User: "U0B", Channel: "C0"}, commands.Run{Preset: "x"}); d.Rule != "wide" {
		t.Errorf("Decide(U0B).Rule = %q, want wide", d.Rule)
	}
	if d := p.Decide(Subject{User: "", Channel: "C0"}, commands.Run{Preset: "x"}); d.Rule != "wide" {
		t.Errorf(`Decide(no user).Rule = %q, want wide ("*" matches anyone)`, d.Rule)
	}
}

func TestDecideNoRules(t *testing.T) {
	p := mustParse(t, `
presets:
  nightly: {cluster: 52, package: 434}
protected:
  packages: ["*"]
  confirm_within: 90s
`)
	s := Subject{User: "U0ANY", Channel: "C0ANY"}
	tests := []struct {
		t    commands.Run
		want Decision
	}{
		{commands.Run{ClusterID: 1, PackageID: 2}, Decision{Allowed: true, Confirm: true, Reason: "package 2 is protected"}},
		{commands.Run{Preset: "nightly"}, Decision{Allowed: true, Confirm: true, Reason: "package 434 is protected"}},
	}
	for _, tt := range tests {
		if got := p.Decide(s, tt.t); got != tt.want {
			t.Errorf("Decide(%+v) = %+v, want %+v", tt.t, got, tt.want)
		}
	}
	if got := p.ConfirmWithin(); got != 90*time.Second {
		t.Errorf("ConfirmWithin() = %v, want 90s", got)
	}
	if got := len(p.PresetsFor(s)); got != 1 {
		t.Errorf("PresetsFor with no rules = %d presets, want all 1", got)
	}
}

func TestNilPolicy(t *testing.T) {
	var p *Policy
	s := Subject{User: "U0ANY", Channel: "C0ANY"}
	if d := p.Decide(s, commands.Run{ClusterID: 52, PackageID: 434}); d != (Decision{Allowed: true}) {
		t.Errorf("nil Decide(raw) = %+v, want allowed without confirmation", d)
	}
	if d := p.Decide(s, commands.Run{Preset: "nightly"}); d != (Decision{Allowed: true}) {
		t.Errorf("nil Decide(preset) = %+v, want allowed", d)
	}
	if _, ok := p.Preset("nightly"); ok {
		t.Errorf("nil Preset found something")
	}
	if p.Presets() != nil || p.PresetsFor(s) != nil || p.SecretVariables() != nil {
		t.Errorf("nil policy has presets or secrets")
	}
	if p.UsesGroups() || p.HasRules() {
		t.Errorf("nil policy uses groups or has rules")
	}
	if got := p.ConfirmWithin(); got != DefaultConfirmWithin {
		t.Errorf("nil ConfirmWithin() = %v, want %v", got, DefaultConfirmWithin)
	}
	if got := p.SecretPattern(); got != DefaultSecretPattern {
		t.Errorf("nil SecretPattern() = %q", got)
	}
	if !p.Secrets().IsSecret("DB_PASSWORD") || p.Secrets().IsSecret("DATE") {
		t.Errorf("nil Secrets() does not use the default pattern")
	}
}

func TestPresetsFor(t *testing.T) {
	p := mustParse(t, decideSrc)
	tests := []struct {
		name string
		s    Subject
		want []string
	}{
		{"everything, sorted without case", Subject{User: "U0ADMIN", Channel: "C0ANY"}, []string{"backfill", "nightly", "Report", "sandbox"}},
		{"by group in its channel", Subject{User: "U0X", Channel: "C0DATA", Groups: []string{"S0DATA"}}, []string{"backfill", "nightly"}},
		{"by group elsewhere", Subject{User: "U0X", Channel: "C0SANDBOX", Groups: []string{"S0DATA"}}, []string{"sandbox"}},
		{"by user anywhere", Subject{User: "U0OPS", Channel: "D0DM"}, []string{"Report"}},
		{"nothing", Subject{User: "U0X", Channel: "C0DATA"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, pr := range p.PresetsFor(tt.s) {
				got = append(got, pr.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PresetsFor(%+v) = %q, want %q", tt.s, got, tt.want)
			}
		})
	}
	if got := p.PresetsFor(Subject{User: "U0ADMIN"}); got[1].Description != "Nightly load" {
		t.Errorf("PresetsFor lost the description: %+v", got[1])
	}
}

func TestUsesGroups(t *testing.T) {
	if !mustParse(t, decideSrc).UsesGroups() {
		t.Errorf("UsesGroups() = false with a groups rule")
	}
	if mustParse(t, "rules:\n  - users: ['*']\n    channels: ['*']\n    presets: ['*']\n").UsesGroups() {
		t.Errorf("UsesGroups() = true without groups")
	}
}

func TestConcurrentUse(t *testing.T) {
	p := mustParse(t, decideSrc)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				p.Decide(Subject{User: "U0ADMIN", Channel: "C0"}, commands.Run{Preset: "nightly"})
				for _, pr := range p.PresetsFor(Subject{User: "U0ADMIN"}) {
					pr.Variables = map[string]string{"X": "y"}
				}
				p.Secrets().IsSecret("DB_PASSWORD")
			}
		})
	}
	wg.Wait()
}

// Parse refuses a rule that does not say who or where; should one ever be
// built without them, it matches nobody, nowhere, rather than everyone.
func TestRuleWithoutWhoOrWhereMatchesNothing(t *testing.T) {
	var r rule
	if r.matchesUser(Subject{User: "U1", Channel: "C1", Groups: []string{"S1"}}) {
		t.Errorf("a rule without users or groups matches U1")
	}
	if r.matchesChannel("C1") {
		t.Errorf("a rule without channels matches C1")
	}
}

func TestMayTune(t *testing.T) {
	p := mustParse(t, decideSrc)
	for _, tc := range []struct {
		name string
		s    Subject
		rule string // "" when denied
	}{
		{"a rule for every channel", Subject{User: "U0ADMIN", Channel: "C0ANY"}, "admins"},
		{"a group in its channel", Subject{User: "U0DATA", Channel: "C0DATA", Groups: []string{"S0DATA"}}, "data-team"},
		{"a group elsewhere", Subject{User: "U0DATA", Channel: "C0ELSE", Groups: []string{"S0DATA"}}, ""},
		{"a group not held", Subject{User: "U0DATA", Channel: "C0DATA"}, ""},
		{"everyone in one channel", Subject{User: "U0ANYONE", Channel: "C0SANDBOX"}, "sandbox-channel"},
		{"nobody names them", Subject{User: "U0ANYONE", Channel: "C0DATA"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := p.MayTune(tc.s)
			if d.Allowed != (tc.rule != "") || d.Rule != tc.rule || d.Confirm {
				t.Errorf("MayTune(%+v) = %+v, want rule %q", tc.s, d, tc.rule)
			}
			if !d.Allowed && d.Reason == "" {
				t.Errorf("MayTune(%+v) denies without a reason", tc.s)
			}
		})
	}
	for _, open := range []*Policy{nil, mustParse(t, "presets:\n  nightly: {cluster: 52, package: 434}\n")} {
		if d := open.MayTune(Subject{User: "U1", Channel: "C1"}); !d.Allowed || d.Rule != "" {
			t.Errorf("without rules MayTune = %+v, want allowed", d)
		}
	}
}
