package commands

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// The run form's variables box: one NAME=value or NAME:=expression per
// line, with the command's grammar and quoting. The box's text comes as
// typed (Slack does not escape a text input as it escapes a command), so
// only curly quotes are straightened; &amp; stays &amp;.

// MaxFormTextLen is the longest text of the variables box, in characters
// (Slack's limit on a plain text input).
const MaxFormTextLen = 3000

// ParseVariables reads the text of the run form's variables box. Blank
// lines are skipped; a value in double quotes may span lines. It returns nil maps when the box sets nothing, and an
// *Error whose Reason names the line for anything wrong.
func ParseVariables(text string) (vars, dyn map[string]string, err error) {
	if utf8.RuneCountInString(text) > MaxFormTextLen {
		return nil, nil, &Error{Reason: fmt.Sprintf("the variables are %d characters long; the most is %d", utf8.RuneCountInString(text), MaxFormTextLen)}
	}
	if !utf8.ValidString(text) {
		return nil, nil, &Error{Reason: "the text is not valid UTF-8"}
	}
	p := runParser{idTok: map[string]string{}, nameTok: map[string]string{}}
	items := typedItems(text)
	line, fresh := 1, true // fresh: no word yet on this line
	for i := 0; i < len(items); {
		if r := items[i].r; isSep(r) {
			if r == '\n' {
				line, fresh = line+1, true
			}
			i++
			continue
		}
		at := fmt.Sprintf("line %d: ", line)
		n, _, q, fault := scan(items[i:])
		switch fault {
		case unclosed:
			return nil, nil, onLine(at, unclosedQuote(items[i:], q))
		case midValue:
			return nil, nil, onLine(at, midValueQuote(items[i:], q))
		}
		tok := token{items: items[i : i+n], text: itemsText(items[i : i+n])}
		i += n
		if !fresh {
			return nil, nil, &Error{
				Token:  tok.text,
				Reason: at + "one variable a line",
				Hint:   "Put values with spaces in double quotes, like " + code(`MSG="hello world"`) + ".",
			}
		}
		fresh = false
		line += strings.Count(tok.text, "\n") // a quoted value may span lines
		key, dynamic, value, ok := splitKey(tok.items)
		switch {
		case !ok:
			return nil, nil, &Error{
				Token:  tok.text,
				Reason: at + "this should be " + code("NAME=value") + " or " + code("NAME:=expression"),
			}
		case lowerASCII(key) == keyCluster || lowerASCII(key) == keyPackage:
			return nil, nil, &Error{
				Token:  tok.text,
				Reason: at + "the " + lowerASCII(key) + " is picked above, not set here",
			}
		}
		if err := p.variable(tok, key, dynamic, value); err != nil {
			return nil, nil, onLine(at, err)
		}
	}
	return p.run.Variables, p.run.DynamicVariables, nil
}

// onLine puts "line N: " before the reason of a grammar error.
func onLine(at string, err error) error {
	if e, ok := err.(*Error); ok {
		c := *e
		c.Reason = at + c.Reason
		return &c
	}
	return err
}

// typedItems is text as typed, for the lexer: curly quotes straightened,
// nothing else undone.
func typedItems(s string) []item {
	items := make([]item, 0, len(s))
	for _, r := range s {
		items = append(items, item{straighten(r), typed})
	}
	return items
}

// VariableLines writes variables and dynamic variables one per line, sorted
// by name, as ParseVariables reads them back. A name for which masked
// reports true is written with the value mask instead of its own.
func VariableLines(vars, dyn map[string]string, masked func(name string) bool, mask string) string {
	var lines []string
	for _, set := range []struct {
		m  map[string]string
		op string
	}{{vars, "="}, {dyn, ":="}} {
		names := make([]string, 0, len(set.m))
		for name := range set.m {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			v := set.m[name]
			if masked != nil && masked(name) {
				v = mask
			}
			lines = append(lines, name+set.op+quote(v))
		}
	}
	return strings.Join(lines, "\n")
}
