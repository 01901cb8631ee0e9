package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

const (
	hookPassword = "hook-Pa55w0rd-9x"
	botHookURL   = "https://bot.example.com/hooks/xplenty"
)

// hookCLI runs `runjob-bot hook args…` against xp with XPLENTY_HOOK_AUTH
// set to auth.
func hookCLI(t *testing.T, xp *xplentytest.Server, auth string, args ...string) (stdout string, err error) {
	t.Helper()
	setEnv(t, map[string]string{"XPLENTY_ACCOUNT_ID": xp.AccountID(), "XPLENTY_API_KEY": xp.APIKey(),
		"XPLENTY_API_URL": xp.URL(), "XPLENTY_HOOK_AUTH": auth})
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"hook"}, args...), strings.NewReader(""), &out, &errOut)
	all := out.String() + errOut.String()
	if err != nil {
		all += err.Error()
	}
	if strings.Contains(all, hookPassword) || strings.Contains(all, xp.APIKey()) {
		t.Errorf("hook %v printed a secret:\n%s", args, all)
	}
	return out.String(), err
}

// install adds one web hook for the job events with the credentials of
// XPLENTY_HOOK_AUTH; run again, it updates that hook (a new password
// included) instead of adding a second.
func TestHookInstallIsIdempotent(t *testing.T) {
	xp := xplentytest.New(xplentytest.Options{BasePath: "/xplenty/"})
	t.Cleanup(xp.Close)
	out, err := hookCLI(t, xp, "xplenty:"+hookPassword, "install", "--url", botHookURL)
	if err != nil {
		t.Fatal(err)
	}
	hooks := xp.Hooks()
	if len(hooks) != 1 || !strings.HasPrefix(out, "added web hook 1: POST "+botHookURL) {
		t.Fatalf("after install: %+v\n%s", hooks, out)
	}
	h := hooks[0]
	if h.Type != "web" || !h.Active || !h.BasicAuth || h.URL != botHookURL || strings.Join(h.Events, ",") != strings.Join(xplenty.JobHookEvents, ",") {
		t.Errorf("hook %+v", h)
	}
	if user, pass, _ := xp.HookCredentials(h.ID); user != "xplenty" || pass != hookPassword {
		t.Errorf("the hook sends %q:%q", user, pass)
	}

	out, err = hookCLI(t, xp, "xplenty:"+hookPassword+"-rotated", "install", "--url", "HTTPS://Bot.Example.com/hooks/xplenty")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(xp.Hooks()); n != 1 || !strings.HasPrefix(out, "updated web hook 1") {
		t.Errorf("second install: %d hooks\n%s", n, out)
	}
	if _, pass, _ := xp.HookCredentials(h.ID); pass != hookPassword+"-rotated" {
		t.Errorf("the rotated password did not reach the hook")
	}
}

// Two hooks already post to the bot: install updates the first and says
// the other announces every change again.
func TestHookInstallWarnsOfDuplicates(t *testing.T) {
	xp := xplentytest.New(xplentytest.Options{})
	t.Cleanup(xp.Close)
	xp.AddWebHook(botHookURL, "", "", "job.failed")
	dup := xp.AddWebHook(botHookURL, "old", "old-password", "job")
	out, err := hookCLI(t, xp, "xplenty:"+hookPassword, "install", "--url", botHookURL)
	if err != nil {
		t.Fatal(err)
	}
	if len(xp.Hooks()) != 2 || !strings.Contains(out, "updated web hook 1") || !strings.Contains(out, "web hooks 2 post to the same URL") {
		t.Errorf("install with a duplicate: %+v\n%s", xp.Hooks(), out)
	}
	if user, _, _ := xp.HookCredentials(dup); user != "old" {
		t.Errorf("the duplicate was changed")
	}
}

// status lists every hook, marks the one posting to the bot and says what
// is wrong with it; it shows no other hook's secret (a Slack hook's URL, a
// token in a query).
func TestHookStatus(t *testing.T) {
	xp := xplentytest.New(xplentytest.Options{})
	t.Cleanup(xp.Close)
	out, err := hookCLI(t, xp, "", "status")
	if err != nil || !strings.Contains(out, "no web hook posts to the bot: run `runjob-bot hook install") {
		t.Fatalf("no hooks: %v\n%s", err, out)
	}
	xp.AddHook("slack", json.RawMessage(`{"url":"https://hooks.slack.example/T0/B0/slackSecret77"}`), "job.failed")
	xp.AddWebHook("https://elsewhere.example/notify?token=querySecret88", "", "", "job")
	xp.AddWebHook(botHookURL, "", "", "job.completed")
	out, err = hookCLI(t, xp, "", "status")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"slackSecret77", "querySecret88"} {
		if strings.Contains(out, secret) {
			t.Errorf("status shows %s:\n%s", secret, out)
		}
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 5 || !strings.Contains(lines[3], botHookURL) || !strings.HasSuffix(strings.TrimSpace(lines[3]), "<- the bot") ||
		strings.Contains(lines[1]+lines[2], "<- the bot") || !strings.Contains(out, "web hook 3 sends no credentials") {
		t.Errorf("status:\n%s", out)
	}

	if _, err := hookCLI(t, xp, "xplenty:"+hookPassword, "install", "--url", botHookURL); err != nil {
		t.Fatal(err)
	}
	out, err = hookCLI(t, xp, "xplenty:"+hookPassword, "status", "--url", botHookURL)
	if err != nil || !strings.Contains(out, "web hook 3 posts every job event to the bot, with credentials") {
		t.Errorf("after install: %v\n%s", err, out)
	}
}

func TestHookCLIRefusesBadInput(t *testing.T) {
	xp := xplentytest.New(xplentytest.Options{})
	t.Cleanup(xp.Close)
	for _, c := range []struct {
		auth string
		args []string
		want string
	}{
		{"", []string{"install", "--url", botHookURL}, "XPLENTY_HOOK_AUTH is missing"},
		{hookPassword, []string{"install", "--url", botHookURL}, "XPLENTY_HOOK_AUTH must be user:password"},
		{"xplenty:" + hookPassword, []string{"install"}, "--url is required"},
		{"xplenty:" + hookPassword, []string{"install", "--url", "http://bot.example.com/hooks/xplenty"}, "must be https"},
		{"xplenty:" + hookPassword, []string{"install", "--url", "https://xplenty:" + hookPassword + "@bot.example.com/hooks/xplenty"}, "must not hold credentials"},
		{"xplenty:" + hookPassword, []string{"uninstall"}, `unknown command "uninstall"`},
	} {
		_, err := hookCLI(t, xp, c.auth, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("hook %v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	if n := xp.RequestCount(); n != 0 {
		t.Errorf("%d calls to Xplenty for refused commands", n)
	}
}
