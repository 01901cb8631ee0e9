package notifier

import (
	"strings"

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
