package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// setEnv sets every configuration variable, unset ones to "".
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_API_URL", "XPLENTY_ACCOUNT_ID",
		"XPLENTY_API_KEY", "XPLENTY_API_URL", "XPLENTY_HOOK_AUTH", "REDIS_URL", "POLL_INTERVAL", "ALLOWED_USERS", "ALLOWED_CHANNELS",
		"REDIS_PREFIX", "RETENTION", "RUNJOB_POLICY", "SECRET_PATTERN", "RUNJOB_SECRET_KEY", "RUNJOB_SECRET_KEY_PREVIOUS",
		"HTTP_ADDR", "LOG_LEVEL"} {
		t.Setenv(name, vars[name])
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

// clearShellEnv keeps the developer's environment out of the test: the
// shell must use its sandbox and embedded Redis.
func clearShellEnv(t *testing.T) {
	for _, v := range []string{
		"REDIS_URL", "REDIS_PREFIX", "XPLENTY_ACCOUNT_ID", "XPLENTY_API_KEY", "XPLENTY_API_URL",
		"ALLOWED_USERS", "ALLOWED_CHANNELS", "POLL_INTERVAL", "LOG_LEVEL", "SECRET_PATTERN", "RUNJOB_POLICY",
	} {
		t.Setenv(v, "")
	}
}

func TestShellArguments(t *testing.T) {
	clearShellEnv(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"shell", "-h"}, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "XPLENTY_API_KEY") {
		t.Errorf("shell -h does not explain the environment:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"shell", "--bogus"}, strings.NewReader(""), io.Discard, io.Discard); err == nil {
		t.Error("an unknown argument was accepted")
	}
}
