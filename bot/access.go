package bot

import (
	"fmt"
	"regexp"
	"strings"
)

// Access decides who may do what from where. It is asked on every command
// and every button click, about the person acting (not the card's owner).
type Access interface {
	Allowed(user, channel string) bool
}

// Allowlist is the simplest Access: a set of users and a set of channels,
// each either "*" (everyone, everywhere) or Slack ids. Both must allow.
type Allowlist struct {
	allUsers, allChannels bool
	users, channels       map[string]bool
}

var _ Access = (*Allowlist)(nil)

var slackID = regexp.MustCompile(`^[A-Z][A-Z0-9]+$`)

// ParseAllowlist reads the ALLOWED_USERS and ALLOWED_CHANNELS values:
// comma-separated Slack ids, or "*". An empty list allows nobody.
func ParseAllowlist(users, channels []string) (*Allowlist, error) {
	a := &Allowlist{users: map[string]bool{}, channels: map[string]bool{}}
	if err := fill(users, &a.allUsers, a.users, "ALLOWED_USERS"); err != nil {
		return nil, err
	}
	if err := fill(channels, &a.allChannels, a.channels, "ALLOWED_CHANNELS"); err != nil {
		return nil, err
	}
	return a, nil
}

func fill(items []string, all *bool, set map[string]bool, name string) error {
	for _, it := range items {
		it = strings.TrimSpace(it)
		switch {
		case it == "":
		case it == "*":
			*all = true
		case slackID.MatchString(it):
			set[it] = true
		default:
			return fmt.Errorf("%s: %q is not a Slack id (like U012AB3CD or C012AB3CD) or *", name, it)
		}
	}
	return nil
}

// Allowed reports whether user may act in channel.
func (a *Allowlist) Allowed(user, channel string) bool {
	return (a.allUsers || a.users[user]) && (a.allChannels || a.channels[channel])
}
