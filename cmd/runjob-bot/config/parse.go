package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Duration parses v, the value of the variable name, as a Go duration of
// at least least; bad is told what is wrong, by name.
func Duration(name, v string, least time.Duration, bad func(string, string)) time.Duration {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	switch {
	case err != nil:
		bad(name, fmt.Sprintf("is not a duration like 10s or 1m (got %q)", v))
	case d < least:
		bad(name, fmt.Sprintf("must be at least %s (got %s)", least, d))
	}
	return d
}

// HTTPURL checks that v is an http(s) URL without credentials and returns
// it ending in "/"; the error never quotes v.
func HTTPURL(v string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("must be an http(s) URL")
	}
	if u.User != nil {
		return "", errors.New("must not contain credentials")
	}
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}

// SplitList splits a comma-separated list, dropping blank items.
func SplitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// tokenKind names the kind of a Slack token by its prefix, without
// showing any of its secret part.
func tokenKind(v string) string {
	for _, p := range []string{"xoxb-", "xapp-", "xoxp-", "xoxa-", "xoxe-", "xoxc-", "xoxs-"} {
		if strings.HasPrefix(v, p) {
			return "a " + p + " token"
		}
	}
	return "not a Slack token"
}
