package commands

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The shapes of the words a command is made of: names, values, numbers.

// valueProblem says what is wrong with a value or expression, or "".
func valueProblem(v string) string {
	if !utf8.ValidString(v) {
		return "the value is not valid UTF-8"
	}
	if n := utf8.RuneCountInString(v); n > MaxValueLen {
		return fmt.Sprintf("the value is %d characters long; the most is %d", n, MaxValueLen)
	}
	for _, r := range v {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return fmt.Sprintf("the value holds an invisible control character (U+%04X)", r)
		}
		if isCurly(r) {
			return "the value holds a curly quote, which Slack users can't type"
		}
	}
	return ""
}

// numberLike reports whether v is written like a number (digits of any
// script, signs, points, exponents after the first character): an id, or a
// malformed one, never a name.
func numberLike(v string) bool {
	digits := false
	for i, r := range v {
		switch {
		case unicode.IsDigit(r):
			digits = true
		case strings.ContainsRune("+-.,", r), i > 0 && strings.ContainsRune("_eE", r):
		default:
			return false
		}
	}
	return digits
}

// validName reports whether s matches [A-Za-z_][A-Za-z0-9_]* and fits
// MaxNameLen.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// validPreset reports whether s matches [A-Za-z][A-Za-z0-9_-]*; length is
// checked apart, for a clearer error.
func validPreset(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
			i > 0 && ('0' <= c && c <= '9' || c == '_' || c == '-')) {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases ASCII letters only, so that no Unicode folding
// (the Kelvin sign, the long s) can turn a word into a keyword.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
