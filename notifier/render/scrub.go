package render

import (
	"bytes"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Scrubber hides the values of a job's secret variables in free text that
// may echo them: Xplenty's error messages, its errors text, output names.
// It is the one implementation the renderer, the store and the bot use, so
// every message, log line, audit entry and stored text is scrubbed alike.
//
// It must see the text raw, before anything shortens it, collapses its
// spaces or escapes it: a secret cut in half by a length limit, one holding
// two spaces, or one holding &, < or > would no longer be found. Text that
// arrives escaped (a JSON body, an HTML error page, an echoed URL) is
// covered by looking for each value's escaped forms too; see escapedForms.
type Scrubber struct {
	secrets []string // longest first, so a value is scrubbed before any part of it
}

// NewScrubber returns a Scrubber for the values in vars of the variables
// named in secretNames (compared case-insensitively), and for the forms
// JSON, HTML and URLs escape them to. Values shorter than minSecretLen are
// left alone, escaped or not: replacing every "a" or "42" would make the
// text unreadable.
func NewScrubber(secretNames []string, vars ...map[string]string) Scrubber {
	var s Scrubber
	for _, m := range vars {
		for name, value := range m {
			if IsSecret(name, secretNames) && utf8.RuneCountInString(value) >= minSecretLen {
				s.secrets = append(s.secrets, escapedForms(value)...)
			}
		}
	}
	slices.SortFunc(s.secrets, func(a, b string) int {
		if d := len(b) - len(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	s.secrets = slices.Compact(s.secrets)
	return s
}

// escapedForms returns v and the forms it takes when the text that echoes
// it was escaped: inside a JSON string (HTML-safe, as encoding/json and
// Rails write & < >, or not), in HTML (&#34; as Go writes a quote, &quot;
// as most others do), in a URL's query or path. Only the forms that differ
// from v are added: a plain value costs one replacement, a value holding
// &, ", <, >, spaces or non-ASCII a handful.
func escapedForms(v string) []string {
	forms := []string{v}
	add := func(f string) {
		if f != v && utf8.RuneCountInString(f) >= minSecretLen && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		add(string(b[1 : len(b)-1]))
	}
	h := html.EscapeString(v)
	add(h)
	add(strings.ReplaceAll(h, "&#34;", "&quot;"))
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	return forms
}

// Scrub replaces every secret value, and each escaped form of it, in text
// with Mask.
func (s Scrubber) Scrub(text string) string {
	for _, v := range s.secrets {
		text = strings.ReplaceAll(text, v, Mask)
	}
	return text
}

// Summary is text as a log line, an audit entry or a short answer shows it:
// scrubbed, on one line with its runs of spaces collapsed (control
// characters and bidi overrides removed), scrubbed again (a removed
// character may have split a secret), and shortened to at most max
// characters. The result is still raw: escape it before it goes to Slack.
func (s Scrubber) Summary(text string, max int) string {
	return truncate(s.clean(strings.ToValidUTF8(text, "\uFFFD"), func(t string) string {
		return strings.Join(strings.Fields(oneLine(t)), " ")
	}), max)
}

// clean scrubs text, applies shape (which removes or replaces characters)
// and scrubs again, so that neither a secret holding a character shape
// changes nor one that a removed character split gets through.
func (s Scrubber) clean(text string, shape func(string) string) string {
	return s.Scrub(shape(s.Scrub(text)))
}
