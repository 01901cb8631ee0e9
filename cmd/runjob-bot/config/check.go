package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is the checked configuration.
type Config struct {
	SlackAppToken, SlackBotToken, SlackAPIURL   string
	XplentyAccountID, XplentyAPIKey, XplentyURL string
	Redis                                       Redis
	PollInterval, Retention                     time.Duration
	AllowedUsers, AllowedChannels               []string
	RedisPrefix                                 string
	PolicyFile                                  string
	SecretPattern                               string
	SecretKey, SecretKeyPrevious                string
	HTTPAddr                                    string
	LogLevel                                    slog.Level
	// HookAuth is XPLENTY_HOOK_AUTH; its zero value turns Xplenty's web
	// hooks off.
	HookAuth HookAuth
	// WatchdogQueuedAfter and WatchdogStoppingAfter are how long a job
	// may stay queued or in pending_stoppage before a note in its thread;
	// 0 for never.
	WatchdogQueuedAfter, WatchdogStoppingAfter time.Duration
	// UpdatePerMinute is the chat.update budget shared by the replicas;
	// 0 means deliver.DefaultUpdatePerMinute.
	UpdatePerMinute float64
}

// MinSecretKeyLen is the shortest RUNJOB_SECRET_KEY accepted: 32 random
// characters carry at least the 128 bits AES-GCM's security rests on.
const MinSecretKeyLen = 32

// SealingKeys are the keys the store seals and opens secret values with:
// RUNJOB_SECRET_KEY, else the Xplenty API key (as before it existed); the
// previous key only opens; the Xplenty API key also opens what it sealed
// before RUNJOB_SECRET_KEY was set (v1 values, and v2 values sealed with
// the key derived from it), so moving to RUNJOB_SECRET_KEY loses nothing.
func (c Config) SealingKeys() (current, previous, legacy []byte) {
	current = []byte(c.SecretKey)
	if c.SecretKey == "" {
		current = []byte(c.XplentyAPIKey)
	}
	if c.SecretKeyPrevious != "" {
		previous = []byte(c.SecretKeyPrevious)
	}
	return current, previous, []byte(c.XplentyAPIKey)
}

// Check validates every variable and reports all problems together. No
// message contains a secret's value.
func (e Env) Check() (Config, error) {
	var errs []error
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s %s", name, why)) }
	c := Config{
		SlackAppToken: strings.TrimSpace(e.SlackAppToken), SlackBotToken: strings.TrimSpace(e.SlackBotToken),
		XplentyAccountID: strings.TrimSpace(e.XplentyAccountID), XplentyAPIKey: strings.TrimSpace(e.XplentyAPIKey),
		RedisPrefix: e.RedisPrefix, PolicyFile: strings.TrimSpace(e.PolicyFile),
		SecretPattern: e.SecretPattern, HTTPAddr: strings.TrimSpace(e.HTTPAddr),
	}
	token := func(name, v, prefix string) {
		switch {
		case v == "":
			bad(name, "is missing")
		case !strings.HasPrefix(v, prefix):
			bad(name, fmt.Sprintf("must start with %q (it is %s)", prefix, tokenKind(v)))
		}
	}
	token("SLACK_APP_TOKEN", c.SlackAppToken, "xapp-")
	token("SLACK_BOT_TOKEN", c.SlackBotToken, "xoxb-")
	if c.XplentyAccountID == "" {
		bad("XPLENTY_ACCOUNT_ID", "is missing")
	}
	if c.XplentyAPIKey == "" {
		bad("XPLENTY_API_KEY", "is missing")
	}
	var err error
	if c.SlackAPIURL, err = HTTPURL(e.SlackAPIURL); err != nil {
		bad("SLACK_API_URL", err.Error())
	}
	if c.XplentyURL, err = HTTPURL(e.XplentyAPIURL); err != nil {
		bad("XPLENTY_API_URL", err.Error())
	}
	switch {
	case strings.TrimSpace(e.RedisURL) == "":
		bad("REDIS_URL", "is missing (like redis://localhost:6379/0 or rediss://:password@host:6380/0)")
	default:
		if c.Redis, err = ParseRedis(e.RedisMode, e.RedisURL); err != nil {
			errs = append(errs, err)
		}
	}
	// At 5 s and one list call per tick, polling alone spends 720 of the
	// 5,000 calls an hour the API key has (shared with other tools).
	c.PollInterval = Duration("POLL_INTERVAL", e.PollInterval, 5*time.Second, bad)
	c.Retention = Duration("RETENTION", e.Retention, time.Hour, bad)
	c.WatchdogQueuedAfter = watchdogAfter("WATCHDOG_QUEUED_AFTER", e.WatchdogQueuedAfter, bad)
	c.WatchdogStoppingAfter = watchdogAfter("WATCHDOG_STOPPING_AFTER", e.WatchdogStoppingAfter, bad)
	c.AllowedUsers = SplitList(e.AllowedUsers)
	c.AllowedChannels = SplitList(e.AllowedChannels)
	if c.PolicyFile == "" {
		// With a policy file, whether it has rules is known once serve
		// reads it; serve asks allowlists again then.
		if _, _, err := Allowlists(c.AllowedUsers, c.AllowedChannels, "", false); err != nil {
			errs = append(errs, err)
		}
	}
	if c.RedisPrefix == "" {
		bad("REDIS_PREFIX", "must not be empty")
	}
	if _, err := regexp.Compile(e.SecretPattern); err != nil {
		bad("SECRET_PATTERN", "is not a valid regular expression: "+err.Error())
	}
	c.SecretKey, c.SecretKeyPrevious = strings.TrimSpace(e.SecretKey), strings.TrimSpace(e.SecretKeyPrev)
	for name, v := range map[string]string{"RUNJOB_SECRET_KEY": c.SecretKey, "RUNJOB_SECRET_KEY_PREVIOUS": c.SecretKeyPrevious} {
		// The previous key may be the Xplenty API key, which sealed before
		// RUNJOB_SECRET_KEY existed and was never held to this length.
		if v != "" && len(v) < MinSecretKeyLen && !(name == "RUNJOB_SECRET_KEY_PREVIOUS" && v == c.XplentyAPIKey) {
			bad(name, fmt.Sprintf("is too short: use at least %d characters, e.g. the output of `openssl rand -base64 32`", MinSecretKeyLen))
		}
	}
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			bad("HTTP_ADDR", fmt.Sprintf("must be host:port or :port, or empty to turn it off (got %q)", c.HTTPAddr))
		}
	}
	if c.HookAuth, err = ParseHookAuth(e.XplentyHookAuth); err != nil {
		bad("XPLENTY_HOOK_AUTH", err.Error())
	} else if c.HookAuth.On() && c.HTTPAddr == "" {
		bad("XPLENTY_HOOK_AUTH", "is set but HTTP_ADDR is empty: Xplenty's web hooks are served on the ops endpoint (HTTP_ADDR), so set both or neither")
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(e.UpdatePerMinute), 64); err != nil || v < 1 || v > 10000 {
		bad("SLACK_UPDATE_PER_MINUTE", fmt.Sprintf("must be a number of calls a minute from 1 to 10000, like 50 (got %q)", e.UpdatePerMinute))
	} else {
		c.UpdatePerMinute = v
	}
	if err := c.LogLevel.UnmarshalText([]byte(strings.TrimSpace(e.LogLevel))); err != nil {
		bad("LOG_LEVEL", fmt.Sprintf("must be debug, info, warn or error (got %q)", e.LogLevel))
	}
	return c, errors.Join(errs...)
}

// watchdogAfter reads a watchdog threshold: 0 (off), or a duration of at
// least a minute (the watchdog looks about once a minute).
func watchdogAfter(name, v string, bad func(string, string)) time.Duration {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || (d != 0 && d < time.Minute) {
		bad(name, fmt.Sprintf("must be 0 (off) or a duration of at least 1m, like 30m (got %q)", v))
		return 0
	}
	return d
}
