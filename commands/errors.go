package commands

import (
	"strings"
	"unicode"
)

// Error is what Parse returns for text it cannot accept. Its message is
// written for the person who typed the command, in Slack mrkdwn: it quotes
// the word that is wrong, says why, and shows the right form.
//
// User text appears in the message only inside backticks, truncated to
// maxShown characters, with backticks, control characters and bidi overrides
// replaced, so it cannot break out of its code span. The caller still escapes & < > as
// for any text it posts; that, not this package, is what keeps a message
// from pinging anyone.
type Error struct {
	// Token is the word that is wrong, as typed, with Slack's escaping
	// undone; "" when the problem is not one word (a missing cluster).
	// It is raw user text: escape it before showing it anywhere.
	Token string
	// Reason says what is wrong, in mrkdwn, safe to show.
	Reason string
	// Earlier is an earlier word the message quotes right after Reason
	// (the one that already set a variable, the cluster or the package), as
	// typed, with Slack's escaping undone; "" when there is none. Like
	// Token it is raw user text, and it may set a secret variable: kept
	// apart from Reason so that a caller can mask it as it masks Token.
	Earlier string
	// Hint shows the right form, in mrkdwn, safe to show; may be "".
	Hint string
}

// Error returns the message for the user: "`token`: reason `earlier`. Hint".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Token != "" {
		b.WriteString(code(e.Token))
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	if e.Earlier != "" {
		b.WriteString(" ")
		b.WriteString(code(e.Earlier))
	}
	b.WriteString(".")
	if e.Hint != "" {
		b.WriteString(" ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// maxShown is how much of a word an error message quotes.
const maxShown = 60

// code quotes user text as an mrkdwn code span: at most maxShown
// characters, with the characters that would end the span or the line
// replaced by look-alikes.
func code(s string) string {
	var b strings.Builder
	b.WriteByte('`')
	n := 0
	for _, r := range s {
		if n == maxShown {
			b.WriteRune('…')
			break
		}
		n++
		switch {
		case r == '`':
			b.WriteRune('ˋ') // U+02CB: a backtick would end the code span
		case r == '\n' || r == '\r':
			b.WriteRune('↵')
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
			'\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069':
			// Line separators and bidi overrides would let user text
			// break the line or reorder the message around it.
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('`')
	return b.String()
}
