package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Parsing rules: (who may run what, and where) and protected: (what asks for
// a confirmation first).

// The shapes of the Slack ids rules accept: users (U or W), user groups (S)
// and channels (C, G or D).
var (
	userIDRe    = regexp.MustCompile(`^[UW][A-Z0-9]+$`)
	groupIDRe   = regexp.MustCompile(`^S[A-Z0-9]+$`)
	channelIDRe = regexp.MustCompile(`^[CGD][A-Z0-9]+$`)
)

// rules reads the list of rules. An empty list is refused: it would allow
// nothing, which is never what leaving the rules out means.
func (ps *parser) rules(p *Policy, e entry) {
	n := ps.deref(e.val)
	if isNull(n) || n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		ps.errorf(e.key, "rules is empty, which would allow nothing; add a rule, or remove rules: to allow every run")
		return
	}
	if n.Kind != yaml.SequenceNode {
		ps.errorf(n, "rules must be a list of rules, each starting with -")
		return
	}
	names := map[string]int{} // rule name → line
	for i, item := range n.Content {
		p.rules = append(p.rules, ps.rule(p, ps.deref(item), i+1, names))
	}
}

// rule reads rule number index (from 1); names holds the line of each rule
// name seen so far, which must be unique.
func (ps *parser) rule(p *Policy, n *yaml.Node, index int, names map[string]int) rule {
	r := rule{name: fmt.Sprintf("rule %d", index)}
	where := r.name
	// The name first, so every other message can use it.
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], ps.deref(n.Content[i+1])
			if k.Value != "name" || v.Kind != yaml.ScalarNode || isNull(v) || v.Value == "" {
				continue
			}
			where = fmt.Sprintf("rule %q", v.Value)
			if first, ok := names[v.Value]; ok {
				ps.errorf(v, "%s: another rule has this name (line %d); rule names are unique", where, first)
			}
			names[v.Value] = v.Line
			r.name = v.Value
			break
		}
	}
	before := len(ps.errs)
	fields, ok := ps.mapping(n, where, "", "a mapping with keys like users: and presets:", ruleKeys)
	if !ok {
		return r
	}
	for _, f := range fields {
		key := f.key.Value
		if key != "name" && ps.emptyList(f.val) {
			ps.errorf(f.key, "%s: %s is empty; %s", where, key, emptyHint(key))
		}
		switch key {
		case "name":
			if s, ok := ps.scalar(f.val, at(where, key)); ok && s == "" {
				ps.errorf(f.val, "%s: name is empty", where)
			}
		case "users":
			r.users = ps.slackIDs(f.val, at(where, key), userIDRe, true,
				"a Slack user id (like U012AB3CD)", "; a member's id is in their profile, under ⋮ → Copy member ID")
		case "groups":
			set := ps.slackIDs(f.val, at(where, key), groupIDRe, false,
				"a Slack user group id (like S0123ABCD)", "")
			r.groups = set.m
		case "channels":
			r.channels = ps.slackIDs(f.val, at(where, key), channelIDRe, true,
				"a Slack channel id (like C012AB3CD)", "; a channel's id is at the bottom of its details")
		case "presets":
			r.presets = ps.presetRefs(p, f.val, at(where, key))
		case "packages":
			r.packages = ps.ids(f.val, at(where, key), "package")
		case "clusters":
			r.clusters = ps.ids(f.val, at(where, key), "cluster")
		}
	}
	if len(ps.errs) > before {
		return r // as in preset: report the cause, not what it leaves missing
	}
	ps.whoAndWhere(n, where, r)
	switch {
	case r.presets == nil && r.packages == nil && r.clusters == nil:
		ps.errorf(n, "%s allows nothing; give presets, or packages and clusters", where)
	case r.packages != nil && r.clusters == nil:
		ps.errorf(n, `%s: packages needs clusters too (clusters: ["*"] for any cluster)`, where)
	case r.clusters != nil && r.packages == nil:
		ps.errorf(n, `%s: clusters needs packages too (packages: ["*"] for any package)`, where)
	}
	return r
}

// whoAndWhere reports a rule that does not say who it is for (users or
// groups) or where (channels). Access is open only where someone wrote "*":
// a rule that leaves either out must not match everyone or everywhere, and
// matching no one would only hide the mistake, so the file is refused.
func (ps *parser) whoAndWhere(n *yaml.Node, where string, r rule) {
	const (
		addWho   = `add users: [...] or groups: [...]`
		addWhere = `add channels: [...]`
	)
	var who []string
	if r.users != nil {
		who = append(who, "users")
	}
	if r.groups != nil {
		who = append(who, "groups")
	}
	switch {
	case who == nil && r.channels == nil:
		ps.errorf(n, `%s says neither who nor where: %s (users: ["*"] for everyone), and channels: [...] (channels: ["*"] for every channel)`,
			where, addWho)
	case who == nil:
		ps.errorf(n, `%s says where (channels) but not who: %s, or users: ["*"] for everyone`, where, addWho)
	case r.channels == nil:
		ps.errorf(n, `%s says who (%s) but not where: %s, or channels: ["*"] for every channel`,
			where, strings.Join(who, " and "), addWhere)
	}
}

// emptyHint says what to write instead of an empty list under key in a rule.
// users and channels cannot simply be left out: a rule must say who and
// where.
func emptyHint(key string) string {
	switch key {
	case "users":
		return `list user ids, or write users: ["*"] for everyone`
	case "channels":
		return `list channel ids, or write channels: ["*"] for every channel`
	}
	return "list something, or leave the key out"
}

// slackIDs reads a list of Slack ids, each matching re, or "*" when star.
// It returns a non-nil set, so a key that is given counts as given.
func (ps *parser) slackIDs(n *yaml.Node, where string, re *regexp.Regexp, star bool, what, hint string) *strSet {
	set := &strSet{m: map[string]bool{}}
	items, _ := ps.list(n, where)
	for _, it := range items {
		switch {
		case isStar(it) && star:
			set.any = true
		case isStar(it):
			ps.errorf(it, `%s: "*" is not allowed here; write users: ["*"] to match everyone`, where)
		case it.Kind == yaml.ScalarNode && re.MatchString(it.Value):
			set.m[it.Value] = true
		case star:
			ps.errorf(it, `%s: %s is not %s or "*"%s`, where, show(it), what, hint)
		default:
			ps.errorf(it, "%s: %s is not %s%s", where, show(it), what, hint)
		}
	}
	return set
}

// presetRefs reads a rule's presets: names of presets in the file, or "*".
func (ps *parser) presetRefs(p *Policy, n *yaml.Node, where string) *strSet {
	set := &strSet{m: map[string]bool{}}
	items, _ := ps.list(n, where)
	for _, it := range items {
		if isStar(it) {
			set.any = true
			continue
		}
		if it.Kind != yaml.ScalarNode || isNull(it) {
			ps.errorf(it, "%s: %s is not a preset name", where, show(it))
			continue
		}
		lower := strings.ToLower(it.Value)
		if _, ok := p.presets[lower]; !ok {
			var names []string
			for _, pr := range p.presets {
				names = append(names, pr.Name)
			}
			slices.Sort(names)
			ps.errorf(it, "%s: there is no preset %s%s", where, show(it), suggest(it.Value, names, ""))
			continue
		}
		set.m[lower] = true
	}
	return set
}

// ids reads a list of positive ids or "*". It returns a non-nil set.
func (ps *parser) ids(n *yaml.Node, where, noun string) *idSet {
	set := &idSet{m: map[int64]bool{}}
	items, _ := ps.list(n, where)
	for _, it := range items {
		if isStar(it) {
			set.any = true
			continue
		}
		id, ok := ps.positive(it)
		if !ok {
			ps.errorf(it, `%s: %s is not a %s id (a positive whole number) or "*"`, where, show(it), noun)
			continue
		}
		set.m[id] = true
	}
	return set
}

// protected reads the clusters and packages that ask for a confirmation, and
// how long one stays valid.
func (ps *parser) protected(p *Policy, n *yaml.Node) {
	fields, _ := ps.mapping(n, "", "protected", "a mapping with clusters:, packages: and confirm_within:", protectedKeys)
	for _, f := range fields {
		switch key := f.key.Value; key {
		case "clusters":
			p.protClusters = *ps.ids(f.val, at("protected", key), "cluster")
		case "packages":
			p.protPackages = *ps.ids(f.val, at("protected", key), "package")
		case "confirm_within":
			p.confirmWithin = ps.confirmWithin(f.val)
		}
	}
}

// confirmWithin reads a duration between MinConfirmWithin and
// MaxConfirmWithin; 0 when it is not such a duration.
func (ps *parser) confirmWithin(n *yaml.Node) time.Duration {
	n = ps.deref(n)
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || err != nil {
		ps.errorf(n, "protected: confirm_within must be a duration like 2m or 90s")
		return 0
	}
	if d < MinConfirmWithin || d > MaxConfirmWithin {
		ps.errorf(n, "protected: confirm_within must be between %s and %s", short(MinConfirmWithin), short(MaxConfirmWithin))
		return 0
	}
	return d
}

// short writes a duration the way people do: 15m, not 15m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
