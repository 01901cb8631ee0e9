package render

import (
	"strings"
	"unicode/utf16"

	"github.com/runjob/runjob/xplenty"
)

// Link is a Slack link <url|label> to an Xplenty page, for messages the
// bot writes outside the renderer (status and list answers); "" when raw
// is not a usable http(s) URL. label is the bot's own text.
func Link(raw, label string) string {
	target, ok := linkTarget(raw)
	if !ok {
		return ""
	}
	return "<" + target + "|" + label + ">"
}

// StatusText is a job status as shown in a message: a known word as it is,
// any other text from Xplenty on one line, without control characters or
// bidi overrides, escaped and capped, as the cards show it.
func StatusText(s xplenty.Status) string {
	if s.Known() {
		return string(s)
	}
	return renderer{}.text(string(s), maxShortText)
}

// percentEncodeUnsafe percent-encodes the bytes of a URL that could end a
// Slack link target or change how it is shown: |, <, >, space, control
// characters and non-ASCII bytes. Other bytes, % included, stay.
func percentEncodeUnsafe(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '|' || c == '<' || c == '>' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// textLen is the length of s as Slack counts it against its limits: in
// UTF-16 code units, so an emoji outside the Basic Multilingual Plane (😀)
// is two. Invalid UTF-8 counts as U+FFFD, one unit, as Slack would store it.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// maxMessageText is the limit of a message's top-level `text`: Slack
// truncates a longer one or answers msg_too_long
// (https://docs.slack.dev/reference/methods/chat.postMessage).
const maxMessageText = 40000

// FitText shortens the top-level text of a message the bot writes outside
// the renderer (an answer to one person) to Slack's limit, ending it with
// "…", so that a long answer arrives cut rather than being refused.
func FitText(s string) string { return truncate(s, maxMessageText) }
