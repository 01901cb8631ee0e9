package policy

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Reading the YAML document itself: exactly one document, syntax errors with
// the line they are on, and aliases followed within an expansion budget.

// maxExpansion bounds how many nodes aliases may stand for, so a few nested
// anchors cannot make parsing take forever ("billion laughs").
const maxExpansion = 100_000

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

// yamlLineRe and unknownAnchorRe take go-yaml's error messages apart.
var (
	yamlLineRe      = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)
	unknownAnchorRe = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

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
