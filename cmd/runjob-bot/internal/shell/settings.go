package shell

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
)

// setup is the shell's configuration before the in-process services
// are started.
type setup struct {
	cfg      config.Config
	sandbox  bool // Xplenty is the in-process sandbox
	embedded bool // Redis is the embedded miniredis
}

// honoured are the variables the shell honours; it leaves the others
// (the Slack tokens, HTTP_ADDR, RETENTION…) at its defaults.
var honoured = []string{
	"XPLENTY_ACCOUNT_ID", "XPLENTY_API_KEY", "XPLENTY_API_URL", "REDIS_URL", "REDIS_MODE",
	"REDIS_PREFIX", "POLL_INTERVAL", "ALLOWED_USERS", "ALLOWED_CHANNELS", "SECRET_PATTERN", "LOG_LEVEL", "RUNJOB_POLICY",
}

// defaults are the shell's defaults: serve's, except that jobs are
// polled every second, everyone may use the bot anywhere, and only
// warnings are logged. REDIS_PREFIX has none here: it depends on whether
// REDIS_URL is set (settings).
func defaults() config.Defaults {
	d := config.ServeDefaults()
	d["POLL_INTERVAL"] = "1s"
	d["ALLOWED_USERS"], d["ALLOWED_CHANNELS"] = "*", "*"
	d["LOG_LEVEL"] = "warn"
	delete(d, "REDIS_PREFIX")
	return d
}

// settings reads the environment the shell honours (a variable set
// to blanks counts as not set). Unlike serve's, nothing is required; what
// is set is checked the same way, and every problem is reported at once.
func settings(getenv func(string) string, opts Options) (setup, error) {
	e := config.Read(func(name string) (string, bool) {
		v := getenv(name)
		return v, slices.Contains(honoured, name) && strings.TrimSpace(v) != ""
	}, defaults())
	var errs []error
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s %s", name, why)) }
	s := setup{cfg: config.Config{
		AllowedUsers: config.SplitList(e.AllowedUsers), AllowedChannels: config.SplitList(e.AllowedChannels),
		RedisPrefix: strings.TrimSpace(e.RedisPrefix), PolicyFile: strings.TrimSpace(e.PolicyFile),
		SecretPattern: e.SecretPattern,
	}}
	s.cfg.Retention = config.Duration("RETENTION", e.Retention, time.Hour, bad)

	acct, key := strings.TrimSpace(e.XplentyAccountID), strings.TrimSpace(e.XplentyAPIKey)
	switch {
	case acct == "" && key == "":
		s.sandbox = true
	case acct == "" || key == "":
		bad("XPLENTY_ACCOUNT_ID and XPLENTY_API_KEY", "must be set together (both for the real API, neither for the sandbox)")
	default:
		s.cfg.XplentyAccountID, s.cfg.XplentyAPIKey = acct, key
		var err error
		if s.cfg.XplentyURL, err = config.HTTPURL(e.XplentyAPIURL); err != nil {
			bad("XPLENTY_API_URL", err.Error())
		}
	}

	if u := strings.TrimSpace(e.RedisURL); u != "" {
		var err error
		if s.cfg.Redis, err = config.ParseRedis(e.RedisMode, u); err != nil {
			errs = append(errs, err)
		}
		if s.cfg.RedisPrefix == "" {
			s.cfg.RedisPrefix = redisPrefix
		}
	} else {
		s.embedded = true
		if s.cfg.RedisPrefix == "" {
			s.cfg.RedisPrefix = config.ServeDefaults()["REDIS_PREFIX"]
		}
	}

	if opts.pollInterval > 0 {
		s.cfg.PollInterval = opts.pollInterval
	} else {
		s.cfg.PollInterval = config.Duration("POLL_INTERVAL", strings.TrimSpace(e.PollInterval), 100*time.Millisecond, bad)
	}
	if _, err := regexp.Compile(s.cfg.SecretPattern); err != nil {
		bad("SECRET_PATTERN", "is not a valid regular expression: "+err.Error())
	}
	if v := strings.TrimSpace(e.LogLevel); s.cfg.LogLevel.UnmarshalText([]byte(v)) != nil {
		bad("LOG_LEVEL", fmt.Sprintf("must be debug, info, warn or error (got %q)", v))
	}
	return s, errors.Join(errs...)
}
