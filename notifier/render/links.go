package render

import (
	"net/url"
	"strings"

	"github.com/slack-go/slack"
)

// links is the context line with the job's page; nil when the job has no
// usable http(s) URL.
func links(htmlURL string) slack.Block {
	target, ok := linkTarget(htmlURL)
	if !ok {
		return nil
	}
	return slack.NewContextBlock(blockLinks, mrkdwn("<"+target+"|Open in Xplenty>"))
}

// linkTarget makes a URL fit to be the target of a Slack link <url|text>:
// only http(s) with a host, without credentials, with |, <, >, spaces,
// control characters and every non-ASCII byte percent-encoded (url.String
// leaves a query as it came, and | or > there would end the target), and &
// escaped.
func linkTarget(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	u.User = nil
	s := percentEncodeUnsafe(u.String())
	if len(s) > maxLinkURL {
		return "", false
	}
	return Escape(s), true
}
