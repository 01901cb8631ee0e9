package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/redis/go-redis/v9"
)

// env is the bot's configuration as the environment gives it. Every field
// is read as text and checked by check, so that start-up names every
// missing or malformed variable at once instead of the first one only.
// The names are contracts (design.md); deploy/env.example documents each
// and a test keeps the two in step.
type env struct {
	SlackAppToken    string `envconfig:"SLACK_APP_TOKEN" desc:"app-level token (xapp-…) with connections:write, for Socket Mode"`
	SlackBotToken    string `envconfig:"SLACK_BOT_TOKEN" desc:"bot token (xoxb-…)"`
	SlackAPIURL      string `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Slack Web API base URL"`
	XplentyAccountID string `envconfig:"XPLENTY_ACCOUNT_ID" desc:"Xplenty account id (the slug in the API URL)"`
	XplentyAPIKey    string `envconfig:"XPLENTY_API_KEY" desc:"Xplenty API key"`
	XplentyAPIURL    string `envconfig:"XPLENTY_API_URL" default:"https://api.xplenty.com/" desc:"Xplenty API base URL"`
	RedisURL         string `envconfig:"REDIS_URL" desc:"redis:// or rediss:// URL, with password if any"`
	PollInterval     string `envconfig:"POLL_INTERVAL" default:"10s" desc:"how often the watcher asks Xplenty what changed (Go duration)"`
	UpdatePerMinute  string `envconfig:"SLACK_UPDATE_PER_MINUTE" default:"50" desc:"chat.update calls a minute for all replicas together (Slack's Tier 3 budget of the workspace; card edits share it)"`
	AllowedUsers     string `envconfig:"ALLOWED_USERS" desc:"comma-separated Slack user ids allowed to use the bot, or *"`
	AllowedChannels  string `envconfig:"ALLOWED_CHANNELS" desc:"comma-separated Slack channel ids the bot may be used in, or *"`
	RedisPrefix      string `envconfig:"REDIS_PREFIX" default:"runjob:" desc:"prefix of every Redis key"`
	Retention        string `envconfig:"RETENTION" default:"720h" desc:"how long finished jobs are remembered (Go duration)"`
	PolicyFile       string `envconfig:"RUNJOB_POLICY" desc:"path of the policy file (presets, rules, protected clusters); optional"`
	SecretPattern    string `envconfig:"SECRET_PATTERN" default:"(?i)(PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|PASS)" desc:"regular expression: variables whose names match are secret"`
	SecretKey        string `envconfig:"RUNJOB_SECRET_KEY" desc:"key that seals secret variable values in Redis (at least 32 characters); optional, default: derived from XPLENTY_API_KEY"`
	SecretKeyPrev    string `envconfig:"RUNJOB_SECRET_KEY_PREVIOUS" desc:"the key RUNJOB_SECRET_KEY replaced, only to open values sealed with it during a rotation; optional"`
	HTTPAddr         string `envconfig:"HTTP_ADDR" default:":8080" desc:"address of /healthz, /readyz and /metrics; empty turns it off"`
	LogLevel         string `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
}

// config is the checked configuration.
type config struct {
	SlackAppToken, SlackBotToken, SlackAPIURL   string
	XplentyAccountID, XplentyAPIKey, XplentyURL string
	Redis                                       *redis.Options
	PollInterval, Retention                     time.Duration
	AllowedUsers, AllowedChannels               []string
	RedisPrefix                                 string
	PolicyFile                                  string
	SecretPattern                               string
	SecretKey, SecretKeyPrevious                string
	HTTPAddr                                    string
	LogLevel                                    slog.Level
	// UpdatePerMinute is the chat.update budget shared by the replicas;
	// 0 means deliver.DefaultUpdatePerMinute.
	UpdatePerMinute float64
}

// minSecretKeyLen is the shortest RUNJOB_SECRET_KEY accepted: 32 random
// characters carry at least the 128 bits AES-GCM's security rests on.
const minSecretKeyLen = 32

// sealingKeys are the keys the store seals and opens secret values with:
// RUNJOB_SECRET_KEY, else the Xplenty API key (as before it existed); the
// previous key only opens; the Xplenty API key also opens what it sealed
// before RUNJOB_SECRET_KEY was set (v1 values, and v2 values sealed with
// the key derived from it), so moving to RUNJOB_SECRET_KEY loses nothing.
func (c config) sealingKeys() (current, previous, legacy []byte) {
	current = []byte(c.SecretKey)
	if c.SecretKey == "" {
		current = []byte(c.XplentyAPIKey)
	}
	if c.SecretKeyPrevious != "" {
		previous = []byte(c.SecretKeyPrevious)
	}
	return current, previous, []byte(c.XplentyAPIKey)
}

// loadEnv reads the environment; it never fails on content, only check does.
func loadEnv() (env, error) {
	var e env
	if err := envconfig.Process("", &e); err != nil {
		return e, fmt.Errorf("read environment: %w", err)
	}
	return e, nil
}

// check validates every variable and reports all problems together. No
// message contains a secret's value.
func (e env) check() (config, error) {
	var errs []error
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s %s", name, why)) }
	c := config{
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
	if c.SlackAPIURL, err = httpURL(e.SlackAPIURL); err != nil {
		bad("SLACK_API_URL", err.Error())
	}
	if c.XplentyURL, err = httpURL(e.XplentyAPIURL); err != nil {
		bad("XPLENTY_API_URL", err.Error())
	}
	switch {
	case strings.TrimSpace(e.RedisURL) == "":
		bad("REDIS_URL", "is missing (like redis://localhost:6379/0 or rediss://:password@host:6380/0)")
	default:
		// The parser's own message may quote the URL, password and all.
		if c.Redis, err = redis.ParseURL(strings.TrimSpace(e.RedisURL)); err != nil {
			bad("REDIS_URL", "is not a valid redis:// or rediss:// URL (like redis://:password@host:6379/0)")
		}
	}
	// At 5 s and one list call per tick, polling alone spends 720 of the
	// 5,000 calls an hour the API key has (shared with other tools).
	c.PollInterval = duration("POLL_INTERVAL", e.PollInterval, 5*time.Second, bad)
	c.Retention = duration("RETENTION", e.Retention, time.Hour, bad)
	c.AllowedUsers = splitList(e.AllowedUsers)
	c.AllowedChannels = splitList(e.AllowedChannels)
	if c.PolicyFile == "" {
		// With a policy file, whether it has rules is known once serve
		// reads it; serve asks allowlists again then.
		if _, _, err := allowlists(c.AllowedUsers, c.AllowedChannels, "", false); err != nil {
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
		if v != "" && len(v) < minSecretKeyLen && !(name == "RUNJOB_SECRET_KEY_PREVIOUS" && v == c.XplentyAPIKey) {
			bad(name, fmt.Sprintf("is too short: use at least %d characters, e.g. the output of `openssl rand -base64 32`", minSecretKeyLen))
		}
	}
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			bad("HTTP_ADDR", fmt.Sprintf("must be host:port or :port, or empty to turn it off (got %q)", c.HTTPAddr))
		}
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

// allowlists returns the ALLOWED_USERS and ALLOWED_CHANNELS lists the bot
// enforces. A bot that starts paid jobs is open only where someone wrote
// "*": an empty list never means everyone. When the policy file has rules,
// an empty list does not restrict and the rules decide alone (the operator
// said who may run what there); otherwise each list must be given, and the
// error names each one that is not and how to open it.
func allowlists(users, channels []string, policyFile string, rules bool) ([]string, []string, error) {
	if rules {
		if len(users) == 0 {
			users = []string{"*"}
		}
		if len(channels) == 0 {
			channels = []string{"*"}
		}
		return users, channels, nil
	}
	why := "there is no RUNJOB_POLICY with rules to decide"
	if policyFile != "" {
		why = "the policy file " + policyFile + " has no rules to decide"
	}
	var errs []error
	if len(users) == 0 {
		errs = append(errs, fmt.Errorf("ALLOWED_USERS is empty and %s who may use the bot: "+
			"list Slack user ids (comma-separated), or set ALLOWED_USERS=* to allow everyone", why))
	}
	if len(channels) == 0 {
		errs = append(errs, fmt.Errorf("ALLOWED_CHANNELS is empty and %s where the bot may be used: "+
			"list Slack channel ids (comma-separated), or set ALLOWED_CHANNELS=* to allow every channel", why))
	}
	return users, channels, errors.Join(errs...)
}

func duration(name, v string, least time.Duration, bad func(string, string)) time.Duration {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	switch {
	case err != nil:
		bad(name, fmt.Sprintf("is not a duration like 10s or 1m (got %q)", v))
	case d < least:
		bad(name, fmt.Sprintf("must be at least %s (got %s)", least, d))
	}
	return d
}

func httpURL(v string) (string, error) {
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

func splitList(v string) []string {
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
