package policy

import (
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Reading nodes of the expected shape (a mapping, a list, a single value, an
// id), reporting any other shape in the operator's terms.

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
