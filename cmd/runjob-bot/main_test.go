package main

import (
	"context"
	"strings"
	"testing"
)

// setEnv sets every configuration variable, unset ones to "".
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_API_URL", "XPLENTY_ACCOUNT_ID",
		"XPLENTY_API_KEY", "XPLENTY_API_URL", "REDIS_URL", "POLL_INTERVAL", "ALLOWED_USERS", "ALLOWED_CHANNELS",
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
