package notifier

import (
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
// two spaces, or one holding &, < or > would no longer be found.
type Scrubber struct {
	secrets []string // longest first, so a value is scrubbed before any part of it
}

// NewScrubber returns a Scrubber for the values in vars of the variables
// named in secretNames (compared case-insensitively). Values shorter than
// minSecretLen are left alone: replacing every "a" or "42" would make the
// text unreadable.
func NewScrubber(secretNames []string, vars ...map[string]string) Scrubber {
	var s Scrubber
	for _, m := range vars {
		for name, value := range m {
			if isSecret(name, secretNames) && utf8.RuneCountInString(value) >= minSecretLen {
				s.secrets = append(s.secrets, value)
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

// Scrub replaces every secret value in text with Mask.
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
	text = s.Scrub(strings.ToValidUTF8(text, "\uFFFD"))
	text = s.Scrub(strings.Join(strings.Fields(oneLine(text)), " "))
	return truncate(text, max)
}
