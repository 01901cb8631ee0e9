package policy

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The file walks the YAML node tree by hand rather than decoding into
// structs: every problem then carries the line of the node at fault, unknown
// keys get a "did you mean", and the rules about what goes with what can be
// said in the operator's terms.

var (
	presetNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	varNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	userIDRe     = regexp.MustCompile(`^[UW][A-Z0-9]+$`)
	groupIDRe    = regexp.MustCompile(`^S[A-Z0-9]+$`)
	channelIDRe  = regexp.MustCompile(`^[CGD][A-Z0-9]+$`)
	yamlLineRe   = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)
)

// reservedWords are the words the /runjob grammar reads as sub-commands or
// run keys (commands.reserved); a preset by one of these names could never
// be typed.
var reservedWords = []string{"help", "status", "stop", "rerun", "list", "cluster", "package"}

// The keys each mapping knows, in the order the package comment gives them.
var (
	topKeys       = []string{"secret_pattern", "secret_variables", "presets", "rules", "protected"}
	presetKeys    = []string{"description", "cluster", "package", "variables", "dynamic_variables", "secret_variables"}
	ruleKeys      = []string{"name", "users", "groups", "channels", "presets", "packages", "clusters"}
	protectedKeys = []string{"clusters", "packages", "confirm_within"}
)

// maxExpansion bounds how many nodes aliases may stand for, so a few nested
// anchors cannot make parsing take forever ("billion laughs").
const maxExpansion = 100_000

type parser struct {
	file string
	errs []*Error

	expansion int                // nodes aliases stood for so far
	sizes     map[*yaml.Node]int // subtree sizes of anchored nodes
	tooMany   bool               // the expansion error was reported
}

// entry is one key and its value in a mapping.
type entry struct{ key, val *yaml.Node }

func parse(file string, data []byte) (*Policy, error) {
	ps := &parser{file: file}
	root, err := ps.document(data)
	if err != nil {
		return nil, err
	}
	p := ps.policy(root)
	if len(ps.errs) > 0 {
		slices.SortStableFunc(ps.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		return nil, ps.errs[0]
	}
	return p, nil
}

// document returns the root node of the file's one document, nil when the
// file is empty.
func (ps *parser) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, ps.syntax(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: ps.file, Line: extra.Line, Msg: "a second YAML document starts here; the policy is one document"}
	} else if !errors.Is(err, io.EOF) {
		return nil, ps.syntax(err, data)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// syntax turns a YAML syntax error ("yaml: line 3: did not find expected
// key") into an *Error with the line.
func (ps *parser) syntax(err error, data []byte) *Error {
	e := &Error{File: ps.file, Msg: strings.TrimPrefix(err.Error(), "yaml: "), Err: err}
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	// go-yaml numbers lines from 1 for scanner errors but from 0 for parser
	// errors (its parser.fail adds 1 for the scanner only, and leaves the
	// line out when it is 0), so the parser's are one line early.
	if slices.Contains(parserProblems, e.Msg) {
		e.Line++
	}
	if m := unknownAnchorRe.FindStringSubmatch(e.Msg); m != nil && e.Line == 0 {
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "*"+m[1]) {
				e.Line = i + 1
				break
			}
		}
	}
	e.Msg = "not valid YAML: " + e.Msg
	return e
}

// parserProblems are the messages of go-yaml's parser errors (parserc.go),
// as opposed to its scanner's.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

var unknownAnchorRe = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

func (ps *parser) errorf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	ps.errs = append(ps.errs, &Error{File: ps.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// at joins a place and a key for messages: `preset "nightly": variables`.
func at(where, key string) string {
	switch {
	case where == "":
		return key
	case key == "":
		return where
	}
	return where + ": " + key
}

func (ps *parser) policy(root *yaml.Node) *Policy {
	p := &Policy{presets: map[string]Preset{}}
	top, _ := ps.mapping(root, "", "", "a mapping with keys like presets: and rules:", topKeys)
	byKey := map[string]entry{}
	for _, e := range top {
		byKey[e.key.Value] = e
	}
	var secretNames []string
	if e, ok := byKey["secret_pattern"]; ok {
		p.secretPattern = ps.secretPattern(e.val)
	}
	if e, ok := byKey["secret_variables"]; ok {
		secretNames = ps.varNames(e.val, "secret_variables")
	}
	if e, ok := byKey["presets"]; ok {
		ps.presets(p, e.val)
	}
	if e, ok := byKey["protected"]; ok {
		ps.protected(p, e.val)
	}
	if e, ok := byKey["rules"]; ok {
		ps.rules(p, e)
	}

	for key, pr := range p.presets {
		p.sorted = append(p.sorted, key)
		secretNames = append(secretNames, pr.SecretVariables...)
	}
	slices.Sort(p.sorted)
	slices.Sort(secretNames)
	p.secretNames = slices.Compact(secretNames)
	if s, err := NewSecrets(p.secretPattern, p.secretNames); err == nil {
		p.secrets = s
	} // else secretPattern reported the pattern already
	return p
}

func (ps *parser) secretPattern(n *yaml.Node) string {
	s, ok := ps.scalar(n, "secret_pattern")
	if !ok {
		return ""
	}
	if s == "" {
		ps.errorf(n, "secret_pattern is empty; leave it out for the default, or write '^$' to rely on secret_variables only")
		return ""
	}
	if _, err := regexp.Compile(s); err != nil {
		ps.errorf(n, "secret_pattern is not a valid regular expression: %v", err)
		return ""
	}
	return s
}

func (ps *parser) presets(p *Policy, n *yaml.Node) {
	entries, _ := ps.mapping(n, "", "presets", "a mapping from preset name to preset", nil)
	lines := map[string]int{} // lower-case name → line, for clashes
	for _, e := range entries {
		name := e.key.Value
		where := fmt.Sprintf("preset %q", name)
		switch {
		case !presetNameRe.MatchString(name):
			ps.errorf(e.key, "%s: a preset name starts with a letter, then letters, digits, _ and -", where)
		case len(name) > MaxNameLen:
			ps.errorf(e.key, "%s: a preset name has at most %d characters", where, MaxNameLen)
		case slices.Contains(reservedWords, strings.ToLower(name)):
			ps.errorf(e.key, "%s: %q is a /runjob sub-command or key (%s), so it cannot name a preset",
				where, strings.ToLower(name), strings.Join(reservedWords, ", "))
		}
		lower := strings.ToLower(name)
		if first, ok := lines[lower]; ok {
			ps.errorf(e.key, "%s clashes with the preset at line %d: preset names are compared without case", where, first)
			continue
		}
		lines[lower] = e.key.Line
		pr := ps.preset(e, where)
		pr.Name = name
		// Kept even when invalid, so rules naming it report nothing more.
		p.presets[lower] = pr
	}
}

func (ps *parser) preset(e entry, where string) Preset {
	var pr Preset
	before := len(ps.errs)
	fields, ok := ps.mapping(e.val, where, "", "a mapping with cluster:, package: and the rest", presetKeys)
	if !ok {
		return pr
	}
	var varKeys, dynKeys map[string]*yaml.Node
	has := map[string]bool{}
	for _, f := range fields {
		key := f.key.Value
		has[key] = true
		switch key {
		case "description":
			if !isNull(ps.deref(f.val)) {
				pr.Description, _ = ps.scalar(f.val, at(where, key))
			}
		case "cluster", "package":
			id, ok := ps.positive(f.val)
			if !ok {
				ps.errorf(f.val, "%s: %s must be a positive whole number", where, key)
			}
			if key == "cluster" {
				pr.ClusterID = id
			} else {
				pr.PackageID = id
			}
		case "variables":
			pr.Variables, varKeys = ps.variables(f.val, at(where, key), false)
		case "dynamic_variables":
			pr.DynamicVariables, dynKeys = ps.variables(f.val, at(where, key), true)
		case "secret_variables":
			pr.SecretVariables = ps.varNames(f.val, at(where, key))
			slices.Sort(pr.SecretVariables)
			pr.SecretVariables = slices.Compact(pr.SecretVariables)
		}
	}
	if len(ps.errs) > before {
		// A misspelt or misplaced key is the problem to report, not the
		// key found missing because of it.
		return pr
	}
	for _, key := range []string{"cluster", "package"} {
		if !has[key] {
			ps.errorf(e.key, "%s: %s is missing", where, key)
		}
	}
	for name, k := range dynKeys {
		if first, ok := varKeys[name]; ok {
			ps.errorf(k, "%s: %s is in variables (line %d) and in dynamic_variables; a name goes in one of them",
				where, name, first.Line)
		}
	}
	if count := len(pr.Variables) + len(pr.DynamicVariables); count > MaxVariables {
		ps.errorf(e.key, "%s sets %d variables; a run may set at most %d", where, count, MaxVariables)
	}
	return pr
}

// variables reads a NAME: value mapping; it returns the values (nil when
// none) and the key nodes by name.
func (ps *parser) variables(n *yaml.Node, where string, dynamic bool) (map[string]string, map[string]*yaml.Node) {
	shape := "a mapping of NAME: value"
	if dynamic {
		shape = "a mapping of NAME: expression"
	}
	entries, _ := ps.mapping(n, where, "", shape, nil)
	if len(entries) == 0 {
		return nil, nil
	}
	vars := make(map[string]string, len(entries))
	keys := make(map[string]*yaml.Node, len(entries))
	for _, e := range entries {
		name := e.key.Value
		keys[name] = e.key
		ps.checkVarName(e.key, where, name)
		v := ps.deref(e.val)
		switch {
		case v.Kind != yaml.ScalarNode:
			ps.errorf(v, "%s: %s must be a single value, not %s", where, name, kindName(v))
		case isNull(v) && dynamic:
			ps.errorf(e.key, "%s: %s has no expression", where, name)
		case isNull(v):
			ps.errorf(e.key, `%s: %s has no value; write %s: "" for an empty one`, where, name, name)
		case dynamic && strings.TrimSpace(v.Value) == "":
			ps.errorf(v, "%s: %s has an empty expression", where, name)
		case len([]rune(v.Value)) > MaxValueLen:
			ps.errorf(v, "%s: %s is longer than %d characters", where, name, MaxValueLen)
		}
		vars[name] = v.Value
	}
	return vars, keys
}

// varNames reads a list of variable names.
func (ps *parser) varNames(n *yaml.Node, where string) []string {
	items, _ := ps.list(n, where)
	var names []string
	for _, it := range items {
		if it.Kind != yaml.ScalarNode || isNull(it) {
			ps.errorf(it, "%s: %s is not a variable name", where, show(it))
			continue
		}
		if ps.checkVarName(it, where, it.Value) {
			names = append(names, it.Value)
		}
	}
	return names
}

func (ps *parser) checkVarName(n *yaml.Node, where, name string) bool {
	switch {
	case !varNameRe.MatchString(name):
		ps.errorf(n, "%s: %q is not a variable name: it starts with a letter or _, then letters, digits and _", where, name)
	case len(name) > MaxNameLen:
		ps.errorf(n, "%s: %q is longer than %d characters", where, name, MaxNameLen)
	case strings.EqualFold(name, "cluster"), strings.EqualFold(name, "package"):
		ps.errorf(n, "%s: %q cannot be a variable: /runjob reads it as the run's %s", where, name, strings.ToLower(name))
	default:
		return true
	}
	return false
}

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

// mapping returns the entries of n, which must be a mapping or null (empty).
// where and key place messages; shape says what n should be; known, when not
// nil, are the only keys allowed. Duplicate, merge (<<) and non-scalar keys
// are reported and left out. ok is false when n is not a mapping.
func (ps *parser) mapping(n *yaml.Node, where, key, shape string, known []string) (entries []entry, ok bool) {
	n = ps.deref(n)
	if isNull(n) {
		return nil, true
	}
	place, prefix := at(where, key), at(where, key)+": "
	if place == "" {
		place, prefix = "the policy file", ""
	}
	if n.Kind != yaml.MappingNode {
		ps.errorf(n, "%s must be %s, not %s", place, shape, kindName(n))
		return nil, false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := ps.deref(n.Content[i]), n.Content[i+1]
		switch first, dup := seen[k.Value]; {
		case k.Kind != yaml.ScalarNode:
			ps.errorf(k, "%skeys must be plain names, not %s", prefix, kindName(k))
		case k.Tag == "!!merge":
			ps.errorf(k, "%smerge keys (<<) are not supported; write the keys out", prefix)
		case dup:
			ps.errorf(k, "%s%q is given twice (first at line %d)", prefix, k.Value, first)
		case known != nil && !slices.Contains(known, k.Value):
			seen[k.Value] = k.Line
			ps.errorf(k, "%sunknown key %q%s", prefix, k.Value, suggest(k.Value, known, "the keys are "+strings.Join(known, ", ")))
		default:
			seen[k.Value] = k.Line
			entries = append(entries, entry{k, v})
		}
	}
	return entries, true
}

// list returns the items of n: a sequence, or a single value standing for a
// one-item list; null is an empty list. Items are dereferenced.
func (ps *parser) list(n *yaml.Node, where string) ([]*yaml.Node, bool) {
	n = ps.deref(n)
	switch {
	case isNull(n):
		return nil, true
	case n.Kind == yaml.ScalarNode:
		return []*yaml.Node{n}, true
	case n.Kind != yaml.SequenceNode:
		ps.errorf(n, "%s must be a list, not %s", where, kindName(n))
		return nil, false
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, it := range n.Content {
		items[i] = ps.deref(it)
	}
	return items, true
}

// emptyList reports whether n is an empty list or null.
func (ps *parser) emptyList(n *yaml.Node) bool {
	n = ps.deref(n)
	return isNull(n) || n.Kind == yaml.SequenceNode && len(n.Content) == 0
}

// scalar returns the text of a single value; null is the empty string.
func (ps *parser) scalar(n *yaml.Node, where string) (string, bool) {
	n = ps.deref(n)
	if n.Kind != yaml.ScalarNode {
		ps.errorf(n, "%s must be a single value, not %s", where, kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return n.Value, true
}

// positive reads a positive whole number (a YAML int, so "52" in quotes is
// not one).
func (ps *parser) positive(n *yaml.Node) (int64, bool) {
	n = ps.deref(n)
	var id int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&id) != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// deref follows an alias to its anchored node, charging what the alias
// stands for to the expansion budget.
func (ps *parser) deref(n *yaml.Node) *yaml.Node {
	if n == nil || n.Kind != yaml.AliasNode || n.Alias == nil {
		return n
	}
	if ps.sizes == nil {
		ps.sizes = map[*yaml.Node]int{}
	}
	size, ok := ps.sizes[n.Alias]
	if !ok {
		size = treeSize(n.Alias)
		ps.sizes[n.Alias] = size
	}
	ps.expansion += size
	if ps.expansion > maxExpansion {
		if !ps.tooMany {
			ps.tooMany = true
			ps.errorf(n, "aliases here stand for more than %d values in all; write the file out", maxExpansion)
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	return n.Alias
}

// treeSize counts n's nodes, an alias inside counting as one (it is charged
// when it is followed).
func treeSize(n *yaml.Node) int {
	size := 1
	if n.Kind != yaml.AliasNode {
		for _, c := range n.Content {
			size += treeSize(c)
		}
	}
	return size
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func isStar(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value == "*"
}

// show writes a node for a message: a value quoted, else its kind.
func show(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return kindName(n)
}

func kindName(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "empty"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

// suggest returns ` (did you mean "x"?)` for the known word nearest word, or
// "; "+otherwise when none is near.
func suggest(word string, known []string, otherwise string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	best, bestDist := "", 3 // further than 2 edits is a different word
	for _, k := range known {
		if d := distance(norm(word), norm(k)); d < bestDist && d <= len(k)/2 {
			best, bestDist = k, d
		}
	}
	switch {
	case best != "":
		return fmt.Sprintf(" (did you mean %q?)", best)
	case otherwise != "":
		return "; " + otherwise
	}
	return ""
}

// distance is the Levenshtein distance between a and b, in bytes (keys and
// names are ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
