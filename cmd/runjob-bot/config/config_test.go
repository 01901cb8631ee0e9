package config

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// setEnv sets every configuration variable, unset ones to "".
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_API_URL", "XPLENTY_ACCOUNT_ID",
		"XPLENTY_API_KEY", "XPLENTY_API_URL", "XPLENTY_HOOK_AUTH", "REDIS_URL", "REDIS_MODE", "POLL_INTERVAL", "ALLOWED_USERS", "ALLOWED_CHANNELS",
		"REDIS_PREFIX", "RETENTION", "RUNJOB_POLICY", "SECRET_PATTERN", "RUNJOB_SECRET_KEY", "RUNJOB_SECRET_KEY_PREVIOUS",
		"HTTP_ADDR", "LOG_LEVEL"} {
		t.Setenv(name, vars[name])
	}
}

func validEnv() map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN": "xapp-1-A0-secretapp", "SLACK_BOT_TOKEN": "xoxb-1-secretbot",
		"SLACK_API_URL": "https://slack.com/api/", "XPLENTY_ACCOUNT_ID": "acme", "XPLENTY_API_KEY": "secretkey123",
		"XPLENTY_API_URL": "https://api.xplenty.com/", "REDIS_URL": "rediss://:redispass99@cache:6380/1",
		"POLL_INTERVAL": "10s", "ALLOWED_USERS": "*", "ALLOWED_CHANNELS": "C012AB3CD",
		"REDIS_PREFIX": "runjob:", "RETENTION": "720h", "SECRET_PATTERN": "(?i)PASS", "HTTP_ADDR": ":8080", "LOG_LEVEL": "info",
	}
}

func loadChecked(t *testing.T, vars map[string]string) (Config, error) {
	t.Helper()
	setEnv(t, vars)
	return Read(os.LookupEnv, ServeDefaults()).Check()
}

func TestConfigValid(t *testing.T) {
	c, err := loadChecked(t, validEnv())
	if err != nil {
		t.Fatalf("valid environment refused: %v", err)
	}
	if c.PollInterval != 10*time.Second || c.Redis.Mode != "single" || c.Redis.Single.Addr != "cache:6380" ||
		c.Redis.Single.Password != "redispass99" || c.Redis.Single.DB != 1 || c.Redis.Single.TLSConfig == nil || c.AllowedUsers[0] != "*" || c.AllowedChannels[0] != "C012AB3CD" {
		t.Errorf("config = %+v", c)
	}
}

func TestConfigNamesEveryProblemWithoutSecrets(t *testing.T) {
	vars := validEnv()
	vars["SLACK_APP_TOKEN"] = "xoxb-wrong-kind-secretapp"
	vars["SLACK_BOT_TOKEN"] = ""
	vars["XPLENTY_API_KEY"] = ""
	vars["REDIS_URL"] = "http://:redispass99@cache"
	vars["POLL_INTERVAL"] = "often"
	vars["SLACK_API_URL"] = "ftp://x"
	vars["LOG_LEVEL"] = "loud"
	_, err := loadChecked(t, vars)
	if err == nil {
		t.Fatal("bad environment accepted")
	}
	msg := err.Error()
	for _, want := range []string{"SLACK_APP_TOKEN must start with \"xapp-\"", "SLACK_BOT_TOKEN is missing",
		"XPLENTY_API_KEY is missing", "REDIS_URL", "POLL_INTERVAL", "SLACK_API_URL", "LOG_LEVEL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"secretapp", "redispass99", "secretkey123"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows a secret (%s):\n%s", secret, msg)
		}
	}
}

func TestConfigRefusesToStartOpenByAccident(t *testing.T) {
	vars := validEnv()
	vars["ALLOWED_USERS"], vars["ALLOWED_CHANNELS"] = "", ""
	_, err := loadChecked(t, vars)
	if err == nil || !strings.Contains(err.Error(), "ALLOWED_USERS=*") || !strings.Contains(err.Error(), "ALLOWED_CHANNELS=*") {
		t.Errorf("no access configured: err = %v, want a refusal saying how to allow everyone", err)
	}
	// One list set is not enough: an empty list never means "everyone".
	vars["ALLOWED_CHANNELS"] = "C012AB3CD"
	_, err = loadChecked(t, vars)
	if err == nil || !strings.Contains(err.Error(), "ALLOWED_USERS=*") || strings.Contains(err.Error(), "ALLOWED_CHANNELS") {
		t.Errorf("ALLOWED_CHANNELS alone: err = %v, want a refusal naming ALLOWED_USERS only", err)
	}
	vars["ALLOWED_USERS"], vars["ALLOWED_CHANNELS"] = "U012AB3CD", ""
	_, err = loadChecked(t, vars)
	if err == nil || !strings.Contains(err.Error(), "ALLOWED_CHANNELS=*") || strings.Contains(err.Error(), "ALLOWED_USERS") {
		t.Errorf("ALLOWED_USERS alone: err = %v, want a refusal naming ALLOWED_CHANNELS only", err)
	}
	vars["ALLOWED_USERS"], vars["ALLOWED_CHANNELS"] = "*", "*"
	if c, err := loadChecked(t, vars); err != nil || c.AllowedUsers[0] != "*" || c.AllowedChannels[0] != "*" {
		t.Errorf("both written as *: %v, %+v", err, c)
	}
	// Whether the policy file has rules is known once it is read (serve).
	vars["ALLOWED_USERS"], vars["ALLOWED_CHANNELS"], vars["RUNJOB_POLICY"] = "", "", "/etc/runjob/policy.yaml"
	if _, err := loadChecked(t, vars); err != nil {
		t.Errorf("a policy file is checked when it is read, not here: %v", err)
	}
}

func TestAllowlistsOpenOnlyWhereSomeoneWroteStar(t *testing.T) {
	cases := []struct {
		name            string
		users, channels []string
		policyFile      string
		rules           bool
		wantUsers       []string
		wantChannels    []string
		wantErr         []string // substrings; nil = no error
		notErr          []string
	}{
		{name: "both given", users: []string{"U1"}, channels: []string{"*"}, wantUsers: []string{"U1"}, wantChannels: []string{"*"}},
		{name: "nothing", wantErr: []string{"ALLOWED_USERS=*", "ALLOWED_CHANNELS=*", "no RUNJOB_POLICY"}},
		{name: "presets only", users: []string{"U1"}, policyFile: "/p.yaml",
			wantErr: []string{"ALLOWED_CHANNELS", "/p.yaml has no rules", "ALLOWED_CHANNELS=*"}, notErr: []string{"ALLOWED_USERS"}},
		{name: "rules decide", policyFile: "/p.yaml", rules: true, wantUsers: []string{"*"}, wantChannels: []string{"*"}},
		{name: "rules and a list", channels: []string{"C1"}, policyFile: "/p.yaml", rules: true,
			wantUsers: []string{"*"}, wantChannels: []string{"C1"}},
	}
	for _, c := range cases {
		users, channels, err := Allowlists(c.users, c.channels, c.policyFile, c.rules)
		if c.wantErr != nil {
			if err == nil {
				t.Errorf("%s: accepted (%v, %v), want a refusal", c.name, users, channels)
				continue
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q lacks %q", c.name, err, w)
				}
			}
			for _, w := range c.notErr {
				if strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q names %q", c.name, err, w)
				}
			}
			continue
		}
		if err != nil || !slices.Equal(users, c.wantUsers) || !slices.Equal(channels, c.wantChannels) {
			t.Errorf("%s: got %v, %v, %v; want %v, %v", c.name, users, channels, err, c.wantUsers, c.wantChannels)
		}
	}
}

func TestConfigSealingKeys(t *testing.T) {
	vars := validEnv()
	vars["RUNJOB_SECRET_KEY"] = "short-sealing-key"
	vars["RUNJOB_SECRET_KEY_PREVIOUS"] = "old-short-key"
	_, err := loadChecked(t, vars)
	if err == nil {
		t.Fatal("short sealing keys accepted")
	}
	for _, want := range []string{"RUNJOB_SECRET_KEY is too short", "RUNJOB_SECRET_KEY_PREVIOUS is too short"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	for _, secret := range []string{"short-sealing-key", "old-short-key"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows a key (%s):\n%v", secret, err)
		}
	}

	// Unset: the Xplenty API key seals, as before; set: it seals, and the
	// previous key and the Xplenty key only open.
	delete(vars, "RUNJOB_SECRET_KEY")
	delete(vars, "RUNJOB_SECRET_KEY_PREVIOUS")
	c, err := loadChecked(t, vars)
	if err != nil {
		t.Fatal(err)
	}
	if cur, prev, legacy := c.SealingKeys(); string(cur) != c.XplentyAPIKey || prev != nil || string(legacy) != c.XplentyAPIKey {
		t.Errorf("SealingKeys without RUNJOB_SECRET_KEY = %q %q %q", cur, prev, legacy)
	}
	vars["RUNJOB_SECRET_KEY"] = strings.Repeat("n", 32)
	vars["RUNJOB_SECRET_KEY_PREVIOUS"] = strings.Repeat("p", 40)
	if c, err = loadChecked(t, vars); err != nil {
		t.Fatal(err)
	}
	if cur, prev, legacy := c.SealingKeys(); string(cur) != vars["RUNJOB_SECRET_KEY"] || string(prev) != vars["RUNJOB_SECRET_KEY_PREVIOUS"] || string(legacy) != c.XplentyAPIKey {
		t.Errorf("SealingKeys = %q %q %q", cur, prev, legacy)
	}
}

func TestConfigUpdateBudget(t *testing.T) {
	c, err := loadChecked(t, validEnv())
	if err != nil || c.UpdatePerMinute != 50 {
		t.Fatalf("default SLACK_UPDATE_PER_MINUTE = %v, %v; want 50", c.UpdatePerMinute, err)
	}
	for _, v := range []string{"0", "-5", "fast", "20000"} {
		setEnv(t, validEnv())
		t.Setenv("SLACK_UPDATE_PER_MINUTE", v)
		e := Read(os.LookupEnv, ServeDefaults())
		if _, err := e.Check(); err == nil || !strings.Contains(err.Error(), "SLACK_UPDATE_PER_MINUTE") {
			t.Errorf("SLACK_UPDATE_PER_MINUTE=%s: %v, want it named as wrong", v, err)
		}
	}
}

// The README's rotation away from the key derived from the Xplenty API key
// names that key as RUNJOB_SECRET_KEY_PREVIOUS; an API key shorter than a
// RUNJOB_SECRET_KEY must be is accepted there.
func TestConfigPreviousKeyMayBeTheAPIKey(t *testing.T) {
	vars := validEnv()
	vars["RUNJOB_SECRET_KEY"] = strings.Repeat("n", 44)
	vars["RUNJOB_SECRET_KEY_PREVIOUS"] = vars["XPLENTY_API_KEY"]
	if len(vars["XPLENTY_API_KEY"]) >= MinSecretKeyLen {
		t.Fatalf("the fixture's API key must be short for this test")
	}
	if _, err := loadChecked(t, vars); err != nil {
		t.Errorf("rotation away from the Xplenty-derived key does not start:\n%v", err)
	}
}

// The watchdog's thresholds default to 30m and 15m; 0 turns one off; a
// value under a minute, or not a duration, is refused.
func TestConfigWatchdog(t *testing.T) {
	c, err := loadChecked(t, validEnv())
	if err != nil || c.WatchdogQueuedAfter != 30*time.Minute || c.WatchdogStoppingAfter != 15*time.Minute {
		t.Fatalf("defaults: %v, %v, %v", c.WatchdogQueuedAfter, c.WatchdogStoppingAfter, err)
	}
	t.Setenv("WATCHDOG_QUEUED_AFTER", "0")
	t.Setenv("WATCHDOG_STOPPING_AFTER", "1h")
	if c, err = loadChecked(t, validEnv()); err != nil || c.WatchdogQueuedAfter != 0 || c.WatchdogStoppingAfter != time.Hour {
		t.Fatalf("0 and 1h: %v, %v, %v", c.WatchdogQueuedAfter, c.WatchdogStoppingAfter, err)
	}
	t.Setenv("WATCHDOG_QUEUED_AFTER", "10s")
	t.Setenv("WATCHDOG_STOPPING_AFTER", "soon")
	_, err = loadChecked(t, validEnv())
	for _, name := range []string{"WATCHDOG_QUEUED_AFTER", "WATCHDOG_STOPPING_AFTER"} {
		if err == nil || !strings.Contains(err.Error(), name+" must be 0 (off) or a duration of at least 1m") {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}
