package commands

import (
	"strings"
	"unicode"
)

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

// quoteFault is what is wrong with the quotes of a word.
type quoteFault uint8

const (
	noFault quoteFault = iota
	// unclosed: a quote is never closed.
	unclosed
	// midValue: a double quote opens after other characters of a value,
	// where it would be removed without the user noticing.
	midValue
)

// scan reads one word from the start of items, which must not start with a
// separator. It returns how many items the word spans and its value
// (double quotes removed and their escapes applied, single quotes kept).
// When the word's quotes are wrong, fault says how and at is the index of
// the quote at fault; at is -1 otherwise, and n and value are then only
// good for an error message.
//
// A double quote opens only at the start of the word or of its value (just
// after the "=" of NAME= or NAME:=); elsewhere it is a midValue fault. The
// one exception is "" right after & or <, in or out of double quotes: it
// reads as nothing, and is how Render keeps text from reading as Slack's
// escaping or markup. A single quote opens a quote unless it stands between
// two letters (O'Brien, don't), where it is an apostrophe; inside single
// quotes a ' always closes.
//
// Only typed characters have a meaning here: link text is always text.
// Render mirrors these rules (asIs calls scan); a change here needs a look
// there.
func scan(items []item) (n int, value string, at int, fault quoteFault) {
	var b strings.Builder
	state := bare
	at = -1
	start := 0    // where a double quote may open
	keyOK := true // items[:n] could be the NAME or NAME: of NAME=value
	for n = 0; n < len(items); n++ {
		it := items[n]
		if it.kind != typed {
			keyOK = false
			b.WriteRune(it.r)
			continue
		}
		r := it.r
		if r == '"' && state != inSingle && emptyAfterMark(items, n) {
			n++
			continue
		}
		switch state {
		case bare:
			switch {
			case isSep(r):
				return n, b.String(), -1, noFault
			case r == '"':
				if n != start {
					return n, b.String(), n, midValue
				}
				state, at, keyOK = inDouble, n, false
			case r == '\'':
				keyOK = false
				if !betweenLetters(items, n) {
					state, at = inSingle, n
				}
				b.WriteRune(r)
			case r == '=' && keyOK:
				keyOK, start = false, n+1
				b.WriteRune(r)
			default:
				b.WriteRune(r)
			}
		case inDouble:
			switch {
			case r == '"':
				state, at = bare, -1
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
				state, at = bare, -1
			case r == '\\' && n+1 < len(items):
				// Xplenty's string literals escape with a backslash: keep
				// both, and do not let \' close the quote.
				n++
				b.WriteRune(items[n].r)
			}
		}
	}
	if at >= 0 {
		return n, b.String(), at, unclosed
	}
	return n, b.String(), -1, noFault
}

// emptyAfterMark reports whether items[n] starts a typed "" that comes right
// after a typed & or <: the pair Render writes to break what would read as
// an entity or as markup.
func emptyAfterMark(items []item, n int) bool {
	return n > 0 && n+1 < len(items) &&
		items[n-1].kind == typed && (items[n-1].r == '&' || items[n-1].r == '<') &&
		items[n+1].kind == typed && items[n+1].r == '"'
}

// betweenLetters reports whether items[n] stands right between two letters.
func betweenLetters(items []item, n int) bool {
	return n > 0 && n+1 < len(items) && unicode.IsLetter(items[n-1].r) && unicode.IsLetter(items[n+1].r)
}

// lex splits the normalized text into words.
func lex(items []item) ([]token, error) {
	var toks []token
	for i := 0; i < len(items); {
		if items[i].kind == typed && isSep(items[i].r) {
			i++
			continue
		}
		n, _, at, fault := scan(items[i:])
		switch fault {
		case unclosed:
			return nil, unclosedQuote(items[i:], at)
		case midValue:
			return nil, midValueQuote(items[i:], at)
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
		e.Hint = "An apostrophe between two letters is only an apostrophe (" + code("NAME=O'Brien") +
			"); for any other, put the value in double quotes: " + code(`NAME="Jones' car"`) + "."
	}
	return e
}

// midValueQuote is the error for a word whose double quote at items[at]
// opens in the middle of a value, where it would be removed. It quotes the
// word up to the first space after the quote's partner (or after the quote,
// when it has none), and shows how to write that text as the value.
func midValueQuote(items []item, at int) *Error {
	from := at + 1
	for j := at + 1; j < len(items); j++ {
		if items[j].kind == typed && items[j].r == '"' {
			from = j + 1
			break
		}
	}
	end := len(items)
	for j := from; j < len(items); j++ {
		if items[j].kind == typed && isSep(items[j].r) {
			end = j
			break
		}
	}
	word := items[:end]
	e := &Error{
		Token: itemsText(word),
		Reason: `double quotes go around a whole value, so this ` + code(`"`) +
			` would be removed, not sent`,
		Hint: `To send a ` + code(`"`) + `, put the whole value in double quotes and write each ` +
			code(`"`) + ` in it as ` + code(`\"`) + `, like ` + code(`JSON="{\"a\":1}"`) + ".",
	}
	if key, dynamic, value, ok := splitKey(word); ok && validName(key) && !reserved(key) {
		op := "="
		if dynamic {
			op = ":="
		}
		e.Hint = `To send it, put the whole value in double quotes and write each ` + code(`"`) +
			` in it as ` + code(`\"`) + `: ` + code(key+op+quote(itemsText(value))) + "."
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
