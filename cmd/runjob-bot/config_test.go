package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// setEnv sets every configuration variable, unset ones to "".
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_API_URL", "XPLENTY_ACCOUNT_ID",
		"XPLENTY_API_KEY", "XPLENTY_API_URL", "REDIS_URL", "POLL_INTERVAL", "ALLOWED_USERS", "ALLOWED_CHANNELS",
		"REDIS_PREFIX", "RETENTION", "RUNJOB_POLICY", "SECRET_PATTERN", "HTTP_ADDR", "LOG_LEVEL"} {
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

func loadChecked(t *testing.T, vars map[string]string) (config, error) {
	t.Helper()
	setEnv(t, vars)
	e, err := loadEnv()
	if err != nil {
		t.Fatal(err)
	}
	return e.check()
}

func TestConfigValid(t *testing.T) {
	c, err := loadChecked(t, validEnv())
	if err != nil {
		t.Fatalf("valid environment refused: %v", err)
	}
	if c.PollInterval != 10*time.Second || c.Redis.Addr != "cache:6380" || c.Redis.Password != "redispass99" ||
		c.Redis.DB != 1 || c.Redis.TLSConfig == nil || c.AllowedUsers[0] != "*" || c.AllowedChannels[0] != "C012AB3CD" {
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
	if err == nil || !strings.Contains(err.Error(), "ALLOWED_USERS=*") {
		t.Errorf("no access configured: err = %v, want a refusal saying how to allow everyone", err)
	}
	vars["ALLOWED_CHANNELS"] = "C012AB3CD" // one list set: the other does not restrict
	c, err := loadChecked(t, vars)
	if err != nil || c.AllowedUsers[0] != "*" {
		t.Errorf("ALLOWED_CHANNELS alone: %v, users = %v", err, c.AllowedUsers)
	}
	vars["ALLOWED_CHANNELS"], vars["RUNJOB_POLICY"] = "", "/etc/runjob/policy.yaml"
	if _, err := loadChecked(t, vars); err != nil {
		t.Errorf("a policy file alone must do: %v", err)
	}
}

func TestRunFailsFastOnBadConfig(t *testing.T) {
	setEnv(t, nil)
	var out, errOut strings.Builder
	err := run(context.Background(), nil, strings.NewReader(""), &out, &errOut)
	if err == nil {
		t.Fatal("run with an empty environment succeeded")
	}
	for _, want := range []string{"SLACK_APP_TOKEN is missing", "SLACK_BOT_TOKEN is missing", "XPLENTY_ACCOUNT_ID is missing",
		"XPLENTY_API_KEY is missing", "REDIS_URL is missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestRunRejectsABadPolicyWithItsLine(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/policy.yaml"
	if err := writeFile(path, "presets:\n  nightly:\n    cluster: -1\n    package: 434\n"); err != nil {
		t.Fatal(err)
	}
	_, _, err := loadPolicy(config{PolicyFile: path})
	if err == nil || !strings.Contains(err.Error(), "policy.yaml:3") {
		t.Errorf("err = %v, want the file and line 3", err)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func TestConfigUpdateBudget(t *testing.T) {
	c, err := loadChecked(t, validEnv())
	if err != nil || c.UpdatePerMinute != 50 {
		t.Fatalf("default SLACK_UPDATE_PER_MINUTE = %v, %v; want 50", c.UpdatePerMinute, err)
	}
	for _, v := range []string{"0", "-5", "fast", "20000"} {
		setEnv(t, validEnv())
		t.Setenv("SLACK_UPDATE_PER_MINUTE", v)
		e, err := loadEnv()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.check(); err == nil || !strings.Contains(err.Error(), "SLACK_UPDATE_PER_MINUTE") {
			t.Errorf("SLACK_UPDATE_PER_MINUTE=%s: %v, want it named as wrong", v, err)
		}
	}
}
