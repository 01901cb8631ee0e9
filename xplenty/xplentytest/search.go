package xplentytest

import (
	"strconv"
	"strings"

	"github.com/runjob/runjob/xplenty"
)

// searchQuery is a package search's q, in the API's syntax, reduced to
// what a test needs: free words (any of them, in the name or the
// description), name:, description: and id: terms (all of them), and the
// same terms negated with a leading - (none of them). Values may be quoted
// ("name:\"orders daily\""). Matching is case-insensitive; other
// attributes (user, created, modified) are accepted and ignored.
type searchQuery struct {
	words []string
	must  []searchTerm
	not   []searchTerm
}

type searchTerm struct{ attr, value string }

func parseSearch(q string) searchQuery {
	var sq searchQuery
	for _, tok := range searchTokens(q) {
		neg := strings.HasPrefix(tok, "-")
		attr, value, ok := strings.Cut(strings.TrimPrefix(tok, "-"), ":")
		if !ok {
			if w := strings.ToLower(unquote(tok)); w != "" {
				sq.words = append(sq.words, w)
			}
			continue
		}
		t := searchTerm{attr: strings.ToLower(attr), value: strings.ToLower(unquote(value))}
		switch {
		case t.attr != "name" && t.attr != "description" && t.attr != "id":
			// user, created, modified: not modelled
		case neg:
			sq.not = append(sq.not, t)
		default:
			sq.must = append(sq.must, t)
		}
	}
	return sq
}

// searchTokens splits q at spaces outside double quotes.
func searchTokens(q string) []string {
	var toks []string
	var b strings.Builder
	quoted := false
	for _, r := range q {
		switch {
		case r == '"':
			quoted = !quoted
			b.WriteRune(r)
		case r == ' ' && !quoted:
			if b.Len() > 0 {
				toks = append(toks, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		toks = append(toks, b.String())
	}
	return toks
}

func unquote(s string) string { return strings.Trim(s, `"`) }

// match reports whether p matches, and its rank when it does (lower is
// better): 0 an exact name, 1 a name starting with a word, 2 a name holding
// one, 3 a description holding one or no free words at all.
func (sq searchQuery) match(p *xplenty.Package) (rank int, ok bool) {
	for _, t := range sq.must {
		if !t.holds(p) {
			return 0, false
		}
	}
	for _, t := range sq.not {
		if t.holds(p) {
			return 0, false
		}
	}
	if len(sq.words) == 0 {
		return 3, true
	}
	name, desc := strings.ToLower(p.Name), strings.ToLower(p.Description)
	rank, ok = 4, false
	for _, w := range sq.words {
		switch {
		case name == w:
			rank = 0
		case strings.HasPrefix(name, w):
			rank = min(rank, 1)
		case strings.Contains(name, w):
			rank = min(rank, 2)
		case strings.Contains(desc, w):
			rank = min(rank, 3)
		default:
			continue
		}
		ok = true
	}
	return rank, ok
}

func (t searchTerm) holds(p *xplenty.Package) bool {
	switch t.attr {
	case "name":
		return strings.Contains(strings.ToLower(p.Name), t.value)
	case "description":
		return strings.Contains(strings.ToLower(p.Description), t.value)
	case "id":
		return t.value == strconv.FormatInt(p.ID, 10)
	}
	return false
}
