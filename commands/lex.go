package commands

import "strings"

// token is one word of the command.
type token struct {
	items []item
	// text is the word as the user typed it, Slack's changes undone and its
	// quotes left in: what errors quote and what plain words are matched on.
	text string
}

// Quoting states of scan.
const (
	bare = iota
	inDouble
	inSingle
)

// scan reads one word from the start of items, which must not start with a
// separator. It returns how many items the word spans, its value (double
// quotes removed and their escapes applied, single quotes kept) and, when a
// quote is left open, the index of that quote; open is -1 otherwise.
//
// Only typed characters have a meaning here: link text is always text.
// Render mirrors these rules; a change here needs one there.
func scan(items []item) (n int, value string, open int) {
	var b strings.Builder
	state := bare
	open = -1
	for n = 0; n < len(items); n++ {
		it := items[n]
		if it.kind != typed {
			b.WriteRune(it.r)
			continue
		}
		r := it.r
		switch state {
		case bare:
			switch {
			case isSep(r):
				return n, b.String(), -1
			case r == '"':
				state, open = inDouble, n
			case r == '\'':
				state, open = inSingle, n
				b.WriteRune(r)
			default:
				b.WriteRune(r)
			}
		case inDouble:
			switch {
			case r == '"':
				state, open = bare, -1
			case r == '\\' && n+1 < len(items) && items[n+1].kind == typed &&
				(items[n+1].r == '"' || items[n+1].r == '\\'):
				n++
				b.WriteRune(items[n].r)
			default:
				b.WriteRune(r)
			}
		case inSingle:
			b.WriteRune(r)
			switch {
			case r == '\'':
				state, open = bare, -1
			case r == '\\' && n+1 < len(items):
				// Xplenty's string literals escape with a backslash: keep
				// both, and do not let \' close the quote.
				n++
				b.WriteRune(items[n].r)
			}
		}
	}
	return n, b.String(), open
}

// lex splits the normalized text into words.
func lex(items []item) ([]token, error) {
	var toks []token
	for i := 0; i < len(items); {
		if items[i].kind == typed && isSep(items[i].r) {
			i++
			continue
		}
		n, _, open := scan(items[i:])
		if open >= 0 {
			return nil, unclosedQuote(items[i:], open)
		}
		tok := token{items: items[i : i+n], text: itemsText(items[i : i+n])}
		if m := mentionIn(tok.items); m != "" {
			return nil, &Error{
				Token:  tok.text,
				Reason: "Slack turned " + code(m) + " into a mention, and a command can't hold one",
				Hint:   "Leave it out, or type the name without its @ or #.",
			}
		}
		toks = append(toks, tok)
		i += n
	}
	return toks, nil
}

// unclosedQuote is the error for a word whose quote at items[open] is never
// closed. Since such a word runs to the end of the text, the error quotes it
// only up to the first space after the quote: where the user went wrong.
func unclosedQuote(items []item, open int) *Error {
	end := len(items)
	for j := open + 1; j < len(items); j++ {
		if items[j].kind == typed && isSep(items[j].r) {
			end = j
			break
		}
	}
	e := &Error{Token: itemsText(items[:end])}
	if items[open].r == '"' {
		e.Reason = `the " is never closed`
		e.Hint = `Close it, like ` + code(`NAME="a b"`) + `.`
	} else {
		e.Reason = "the ' is never closed; single quotes are kept and sent to Xplenty " +
			"as a string literal, so they come in pairs, like " + code("S='a b'")
		e.Hint = "For an apostrophe, put the value in double quotes: " + code(`NAME="O'Brien"`) + "."
	}
	return e
}

// mentionIn returns the readable text of the first mention in items, or "".
func mentionIn(items []item) string {
	var b strings.Builder
	for _, it := range items {
		if it.kind == mentionText {
			b.WriteRune(it.r)
		} else if b.Len() > 0 {
			break
		}
	}
	return b.String()
}

func itemsText(items []item) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteRune(it.r)
	}
	return b.String()
}
