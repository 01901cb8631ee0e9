package policy

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"
)

// The file walks the YAML node tree by hand rather than decoding into
// structs: every problem then carries the line of the node at fault, unknown
// keys get a "did you mean", and the rules about what goes with what can be
// said in the operator's terms.

// The keys each mapping knows, in the order the package comment gives them.
var (
	topKeys       = []string{"secret_pattern", "secret_variables", "presets", "rules", "protected"}
	presetKeys    = []string{"description", "cluster", "package", "variables", "dynamic_variables", "secret_variables", "max_runtime"}
	ruleKeys      = []string{"name", "users", "groups", "channels", "presets", "packages", "clusters"}
	protectedKeys = []string{"clusters", "packages", "confirm_within"}
)

// parser collects every problem of the file while it builds the Policy;
// parse reports the first of them by line.
type parser struct {
	file string
	errs []*Error

	expansion int                // nodes aliases stood for so far
	sizes     map[*yaml.Node]int // subtree sizes of anchored nodes
	tooMany   bool               // the expansion error was reported
}

// entry is one key and its value in a mapping.
type entry struct{ key, val *yaml.Node }

// parse parses data, the contents of file, into a Policy, or returns the
// problem nearest the top of the file.
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

// errorf records a problem at n's line (0 when n is nil).
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

// policy reads the top-level mapping. Rules are read after presets and
// protected, so they can name presets and be checked against them.
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

// secretPattern reads secret_pattern, which must be a non-empty regular
// expression; "" when it is not.
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
