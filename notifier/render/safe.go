package render

import (
	"strings"
	"unicode"
	"unicode/utf16"
)

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes untrusted text safe to put in a Slack message: &, < and > are
// the only characters Slack's formatting gives meaning to
// (https://docs.slack.dev/messaging/formatting-message-text#escaping), so
// once they are escaped the text cannot mention anyone, ping a channel or
// disguise a link.
func Escape(s string) string { return slackEscaper.Replace(s) }

// clip escapes untrusted text and caps it at max UTF-16 code units of
// escaped text (see textLen), ending with "…" when cut. It cuts between
// characters of the original, so an entity such as &amp; is never split.
func clip(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if e := Escape(s); textLen(e) <= max {
		return e
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		piece := Escape(string(r))
		k := textLen(piece)
		if n+k > max-1 {
			break
		}
		b.WriteString(piece)
		n += k
	}
	b.WriteString("…")
	return b.String()
}

// truncate caps text that is already safe at max UTF-16 code units (see
// textLen), ending with "…" when cut. It guards Slack's limits; the caps on
// each piece keep it from ever cutting.
func truncate(s string, max int) string {
	if textLen(s) <= max {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		k := utf16.RuneLen(r)
		if k < 0 || n+k > max-1 {
			break
		}
		b.WriteRune(r)
		n += k
	}
	return b.String() + "…"
}

// unsafeRune reports whether r, in untrusted text, would act on how the
// text is shown rather than be part of it: a C0 control character (line
// breaks and tabs included), DEL, a C1 control character (U+0080–U+009F),
// or a bidi embedding, override or isolate (U+202A–U+202E, U+2066–U+2069),
// which can show text in another order than it is read ("Trojan Source").
// Slack ignores some of them; a terminal, which shows the same messages in
// the shell mode, obeys them (ESC starts its escape sequences).
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || isBidiControl(r)
}

// isBidiControl reports whether r is a bidi embedding, override or isolate
// character, or the pop that ends one.
func isBidiControl(r rune) bool {
	return '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069'
}

// oneLine keeps untrusted text on its line: line breaks, tabs and other
// control characters become spaces, bidi overrides are removed.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case isBidiControl(r):
			return -1
		case unsafeRune(r):
			return ' '
		}
		return r
	}, s)
}

// OneLine is oneLine for the bot's own answers that show text from Xplenty
// or a person (names, descriptions, statuses): on one line, without control
// characters or bidi overrides. It does not escape.
func OneLine(s string) string { return oneLine(s) }

// lines is oneLine for text whose lines are kept: \r\n and a lone \r
// become \n, \n and \t stay, every other control character and bidi
// override is removed.
func lines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case unsafeRune(r):
			return -1
		}
		return r
	}, s)
}

// noBackticks swaps ` for ˋ (U+02CB), which looks the same but does not
// open or close code in mrkdwn.
func noBackticks(s string) string { return strings.ReplaceAll(s, "`", "ˋ") }
