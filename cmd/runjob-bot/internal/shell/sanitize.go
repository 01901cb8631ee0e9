package shell

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// sanitize makes text safe to write to a terminal. Messages carry text
// from users and from Xplenty (its error texts), and a terminal obeys
// control sequences wherever they come from: ESC [2J clears the screen,
// ESC ]52 writes the clipboard, BEL rings, a bare CR overwrites the line.
// So every C0 control but line feed and tab, DEL and the C1 controls
// (U+0080–U+009F, which some terminals read as ESC sequences) are written as
// a visible escape (\x1b), the bidi overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), which reorder what follows them, as \u202e, and bytes
// that are not UTF-8 as U+FFFD.
func sanitize(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case unsafeRune(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports whether r must not reach a terminal as it is.
func unsafeRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r == 0x7f, 0x80 <= r && r <= 0x9f:
		return true
	case 0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069:
		return true
	}
	return false
}

// width is the width of s on a terminal, counting each rune as one
// column (good enough for the ASCII the shell puts in its prefixes).
func width(s string) int { return utf8.RuneCountInString(s) }
