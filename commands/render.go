package commands

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Render writes r as canonical command text, without the leading
// "/runjob ": the preset name or cluster=N package=M, then the variables
// sorted by name, then the dynamic variables sorted by name, each value
// quoted only when it must be. Parse(Render(r)) gives back r for every r
// that Parse returns; see the package comment for how.
//
// The text is plain: to post it in Slack, escape & < > as for any text.
func Render(r Run) string {
	var b strings.Builder
	if r.Preset != "" {
		b.WriteString(r.Preset)
	} else {
		b.WriteString(keyCluster + "=" + target(r.ClusterID, r.ClusterName))
		b.WriteString(" " + keyPackage + "=" + target(r.PackageID, r.PackageName))
	}
	writeVars(&b, r.Variables, "=")
	writeVars(&b, r.DynamicVariables, ":=")
	return breakMarkup(b.String())
}

// target writes a cluster or package: its id when known, else the name
// typed for it.
func target(id int64, name string) string {
	if id != 0 || name == "" {
		return strconv.FormatInt(id, 10)
	}
	return quote(name)
}

func writeVars(b *strings.Builder, vars map[string]string, op string) {
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		b.WriteString(" " + name + op)
		b.WriteString(quote(vars[name]))
	}
}

// quote writes a value so that scan reads it back: as it is when it reads
// back unchanged, otherwise in double quotes.
func quote(v string) string {
	if asIs(v) {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRuneInString(v[i:])
		i += n
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\' && (i == len(v) || v[i] == '"' || v[i] == '\\'):
			// Only a backslash that scan would read as an escape, or one
			// that would escape the closing quote, needs doubling.
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// asIs reports whether v, written without double quotes after NAME=, reads
// back as v: it is not empty, has no double quote, and scan reads it whole
// (no separator outside single quotes, every single quote it opens closed,
// apostrophes between letters left as they are). A value with a single
// quote may not hold & or <, since breakMarkup cannot reach inside a quote.
func asIs(v string) bool {
	if v == "" || strings.ContainsRune(v, '"') {
		return false
	}
	if strings.ContainsRune(v, '\'') && strings.ContainsAny(v, "&<") {
		return false
	}
	// In the rendered text v follows "=" and is followed by a space or the
	// end: neither is a letter, so scan sees v alone as it sees it there.
	items := appendText(nil, v, typed)
	n, got, _, fault := scan(items)
	return fault == noFault && n == len(items) && got == v
}

// breakMarkup keeps text from reading as Slack's escaping or markup: after
// every & that starts &amp; &lt; or &gt;, and every < that markupAt would
// take for markup, it puts "", an empty quoted string that reads as
// nothing, whether it lands inside double quotes or outside any. The text
// must have no & or < inside single quotes (see asIs).
func breakMarkup(s string) string {
	if !strings.ContainsAny(s, "&<") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		switch s[i] {
		case '&':
			if _, n := entityAt(s, i); n > 0 {
				b.WriteString(`""`)
			}
		case '<':
			if _, ok := markupAt(s, i); ok {
				b.WriteString(`""`)
			}
		}
	}
	return b.String()
}
