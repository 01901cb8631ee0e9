package policy

import (
	"fmt"
	"strings"

	"github.com/runjob/runjob/commands"
)

// Deciding: the parsed rules and the sets they hold, matched against who
// asks, where, and what they run.

// Decide reports whether s may run t, and whether the run needs a
// confirmation first.
func (p *Policy) Decide(s Subject, t commands.Run) Decision {
	if p == nil {
		return Decision{Allowed: true}
	}
	d := Decision{Allowed: len(p.rules) == 0}
	for _, r := range p.rules {
		if r.matchesUser(s) && r.matchesChannel(s.Channel) && r.allows(t) {
			d.Allowed, d.Rule = true, r.name
			break
		}
	}
	if !d.Allowed {
		d.Reason = "no rule lets you run " + describe(t)
		for _, r := range p.rules {
			if r.matchesUser(s) && r.allows(t) {
				d.Reason += " in this channel"
				break
			}
		}
		return d
	}
	d.Reason = p.protection(t)
	d.Confirm = d.Reason != ""
	return d
}

// MayTune reports whether s may change what s.Channel hears of its jobs
// (/runjob notify). Whoever may start jobs in a channel may decide what it
// hears of them: without rules, everyone (the bot has checked the
// allowlist); with rules, someone a rule matches there (who and where),
// whatever that rule lets them run. Decision.Rule names the first such
// rule; Confirm is never set.
func (p *Policy) MayTune(s Subject) Decision {
	if p == nil || len(p.rules) == 0 {
		return Decision{Allowed: true}
	}
	for _, r := range p.rules {
		if r.matchesUser(s) && r.matchesChannel(s.Channel) {
			return Decision{Allowed: true, Rule: r.name}
		}
	}
	return Decision{Reason: "no rule names you in this channel, so you cannot change what it hears"}
}

// protection says which of t's clusters and packages are protected, "" when
// none is.
func (p *Policy) protection(t commands.Run) string {
	clusters, packages := []int64{t.ClusterID}, []int64{t.PackageID}
	if t.Preset != "" {
		if pr, ok := p.presets[strings.ToLower(t.Preset)]; ok {
			clusters = append(clusters, pr.ClusterID)
			packages = append(packages, pr.PackageID)
		}
	}
	var parts []string
	if id, ok := firstIn(p.protClusters, clusters); ok {
		parts = append(parts, fmt.Sprintf("cluster %d", id))
	}
	if id, ok := firstIn(p.protPackages, packages); ok {
		parts = append(parts, fmt.Sprintf("package %d", id))
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0] + " is protected"
	}
	return parts[0] + " and " + parts[1] + " are protected"
}

// firstIn returns the first positive id that set holds.
func firstIn(set idSet, ids []int64) (int64, bool) {
	for _, id := range ids {
		if id > 0 && set.has(id) {
			return id, true
		}
	}
	return 0, false
}

func describe(t commands.Run) string {
	if t.Preset != "" {
		return "the preset " + t.Preset
	}
	return fmt.Sprintf("package %d on cluster %d", t.PackageID, t.ClusterID)
}

// rule is one entry of rules:, parsed. A nil set was not given. Parse
// refuses a rule without users or groups, or without channels: a key left
// out never stands for everyone or everywhere, only "*" does.
type rule struct {
	name     string
	users    *strSet // "*" allowed
	groups   map[string]bool
	channels *strSet // "*" allowed
	presets  *strSet // lower-case names; "*" allowed
	packages *idSet
	clusters *idSet
}

func (r *rule) matchesUser(s Subject) bool {
	if r.users.has(s.User) {
		return true
	}
	for _, g := range s.Groups {
		if r.groups[g] {
			return true
		}
	}
	return false
}

func (r *rule) matchesChannel(channel string) bool {
	return r.channels.has(channel)
}

func (r *rule) allows(t commands.Run) bool {
	if t.Preset != "" {
		return r.presets != nil && r.presets.has(strings.ToLower(t.Preset))
	}
	return r.packages != nil && r.clusters != nil &&
		r.packages.has(t.PackageID) && r.clusters.has(t.ClusterID)
}

// strSet is a set of strings that may hold "*", everything. A nil *strSet
// (a key not given) holds nothing.
type strSet struct {
	any bool
	m   map[string]bool
}

func (s *strSet) has(v string) bool { return s != nil && (s.any || v != "" && s.m[v]) }

// idSet is a set of ids that may hold "*", every id.
type idSet struct {
	any bool
	m   map[int64]bool
}

func (s idSet) has(id int64) bool { return s.any || s.m[id] }
