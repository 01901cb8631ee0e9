package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/runjob/runjob/commands"
	"go.yaml.in/yaml/v3"
)

// Parsing presets: and the variable names and values they hold.

// presetNameRe and varNameRe are the shapes of preset and variable names.
var (
	presetNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	varNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// reservedWords are the words the /runjob grammar reads as sub-commands or
// run keys (commands.reserved); a preset by one of these names could never
// be typed.
var reservedWords = []string{"help", "status", "stop", "rerun", "list", "form", "packages", "clusters", "notify", "cluster", "package"}

// presets reads the presets mapping into p.presets, by lower-case name.
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

// preset reads one preset; where names it in messages.
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
			id, name, ok := ps.target(f.val)
			if !ok {
				ps.errorf(f.val, "%s: %s must be an id (a positive whole number) or a name of at most %d characters",
					where, key, commands.MaxTargetNameLen)
			}
			if key == "cluster" {
				pr.ClusterID, pr.ClusterName = id, name
			} else {
				pr.PackageID, pr.PackageName = id, name
			}
		case "variables":
			pr.Variables, varKeys = ps.variables(f.val, at(where, key), false)
		case "dynamic_variables":
			pr.DynamicVariables, dynKeys = ps.variables(f.val, at(where, key), true)
		case "secret_variables":
			pr.SecretVariables = ps.varNames(f.val, at(where, key))
			slices.Sort(pr.SecretVariables)
			pr.SecretVariables = slices.Compact(pr.SecretVariables)
		case "max_runtime":
			pr.MaxRuntime = ps.maxRuntime(f.val, where)
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

// target reads a preset's cluster or package: an id, or a name the bot
// resolves through the catalog when the preset is run.
func (ps *parser) target(n *yaml.Node) (id int64, name string, ok bool) {
	if id, ok := ps.positive(n); ok {
		return id, "", true
	}
	n = ps.deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return 0, "", false
	}
	v := strings.TrimSpace(n.Value)
	if strings.IndexFunc(v, unicode.IsLetter) < 0 || // "52" quoted is a mistake, not a name
		utf8.RuneCountInString(v) > commands.MaxTargetNameLen || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return 0, "", false
	}
	return 0, v, true
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

// checkVarName reports whether name can be a variable, and records the
// problem when it cannot.
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

// maxRuntime reads a preset's max_runtime: a Go duration up to
// MaxMaxRuntime; 0 when it is not such a duration.
func (ps *parser) maxRuntime(n *yaml.Node, where string) time.Duration {
	n = ps.deref(n)
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || err != nil {
		ps.errorf(n, "%s: max_runtime must be a duration like 2h or 45m", where)
		return 0
	}
	if d < time.Second || d > MaxMaxRuntime {
		ps.errorf(n, "%s: max_runtime must be between 1s and %s", where, short(MaxMaxRuntime))
		return 0
	}
	return d
}
