package commands

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// itemKind says where a character of the normalized text came from, which
// decides whether it may have a meaning in the grammar.
type itemKind uint8

const (
	// typed characters carry the grammar: spaces separate, quotes group,
	// backslashes escape.
	typed itemKind = iota
	// linkText characters come from a link Slack made; they are only text.
	linkText
	// mentionText characters stand for a mention Slack made, which no
	// command may contain. They hold a readable form for the error.
	mentionText
)

// item is one character of the text after Slack's changes are undone.
type item struct {
	r    rune
	kind itemKind
}

// normalize undoes what Slack does to typed text (see the package comment):
// entities, link and mention markup, curly quotes. It reads text once, left
// to right, so an entity is never decoded twice and markup is recognized only
// where Slack put a real "<".
func normalize(text string) []item {
	items := make([]item, 0, len(text))
	for i := 0; i < len(text); {
		switch text[i] {
		case '<':
			if end, ok := markupAt(text, i); ok {
				items = appendMarkup(items, text[i+1:end])
				i = end + 1
				continue
			}
		case '&':
			if r, n := entityAt(text, i); n > 0 {
				items = append(items, item{r, typed})
				i += n
				continue
			}
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		items = append(items, item{straighten(r), typed})
		i += n
	}
	return items
}

// entityAt reports the character that the entity at s[i] stands for and its
// length, or 0 when there is none. Slack escapes exactly these three.
func entityAt(s string, i int) (rune, int) {
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, "&amp;"):
		return '&', len("&amp;")
	case strings.HasPrefix(rest, "&lt;"):
		return '<', len("&lt;")
	case strings.HasPrefix(rest, "&gt;"):
		return '>', len("&gt;")
	}
	return 0, 0
}

// markupAt reports whether the "<" at s[i] opens Slack markup and, if so, the
// index of its closing ">". Markup sits on one line, holds no other "<", has
// no space in the part before "|", and starts with @, # or ! (mentions and
// channels) or with a URL scheme (links). Render relies on this same test to
// keep its output from reading as markup.
func markupAt(s string, i int) (end int, ok bool) {
	// Stopping at the next "<" or line break, not only at ">", keeps the
	// work linear in the text however many "<" it holds.
	j := strings.IndexAny(s[i+1:], "<>\n")
	if j < 0 || s[i+1+j] != '>' {
		return 0, false
	}
	content := s[i+1 : i+1+j]
	head, _, _ := strings.Cut(content, "|")
	if head == "" || strings.IndexFunc(head, isSep) >= 0 {
		return 0, false
	}
	switch head[0] {
	case '@', '#', '!':
		if len(head) == 1 {
			return 0, false
		}
	default:
		if schemeLen(head) == 0 {
			return 0, false
		}
	}
	return i + 1 + j, true
}

// schemeLen is the length of the URL scheme and its ":" at the start of s,
// or 0 when s does not start with one (RFC 3986: ALPHA *( ALPHA / DIGIT / "+"
// / "-" / "." ) ":").
func schemeLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i + 1
		default:
			return 0
		}
	}
	return 0
}

// appendMarkup appends what the markup with the given content (between "<"
// and ">") becomes.
func appendMarkup(items []item, content string) []item {
	head, label, _ := strings.Cut(content, "|")
	label = unescape(label)
	switch head[0] {
	case '@':
		// <@U024BE7LH> or, from older clients, <@U024BE7LH|bob>.
		return appendText(items, "@"+firstNonEmpty(strings.TrimPrefix(label, "@"), head[1:]), mentionText)
	case '!':
		// <!here>, <!subteam^S1|@devs>, <!date^...|fallback>.
		word, _, _ := strings.Cut(head[1:], "^")
		return appendText(items, "@"+firstNonEmpty(strings.TrimPrefix(label, "@"), word), mentionText)
	case '#':
		if label == "" {
			return appendText(items, head, mentionText)
		}
		return appendText(items, "#"+label, linkText)
	}
	url := unescape(head)
	if label != "" && (label == url || label == strings.TrimPrefix(url[schemeLen(url):], "//")) {
		// Slack auto-linked what the user typed (example.com, a@b.c).
		return appendText(items, label, linkText)
	}
	return appendText(items, url, linkText)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func appendText(items []item, s string, kind itemKind) []item {
	for _, r := range s {
		items = append(items, item{r, kind})
	}
	return items
}

// unescape decodes Slack's entities and straightens curly quotes in text
// taken from inside markup.
func unescape(s string) string {
	if !strings.ContainsAny(s, "&‘’‚‛“”„‟") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if r, n := entityAt(s, i); n > 0 {
			b.WriteRune(r)
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(straighten(r))
		i += n
	}
	return b.String()
}

// straighten maps the curly quotes that phones and macOS substitute for
// typed straight quotes back to straight ones.
func straighten(r rune) rune {
	switch r {
	case '“', '”', '„', '‟':
		return '"'
	case '‘', '’', '‚', '‛':
		return '\''
	}
	return r
}

// isCurly reports whether r is a quote that straighten changes.
func isCurly(r rune) bool { return straighten(r) != r }

// isSep reports whether r separates words: any Unicode space, and the
// invisible zero-width space and byte order mark that pasted text carries.
func isSep(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
}
