package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// End-to-end tests that access never opens by accident: only where someone
// wrote "*", and only in the channel a job belongs to.

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveUntilConnected runs serve and returns its error when it stops on its
// own before connecting to Slack, or errStarted (after stopping it) when it
// connected.
func (e *e2e) serveUntilConnected() error {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Serve(ctx, e.cfg, app.Deps{
			Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
			Ready: func() {
				select { // a reconnect must not block serve
				case ready <- struct{}{}:
				default:
				}
			},
			HTTPClient: &http.Client{Timeout: 5 * time.Second},
		})
	}()
	select {
	case err := <-done:
		return err
	case <-ready:
		cancel()
		<-done
		return errStarted
	case <-time.After(waitLimit):
		e.t.Fatal("serve neither failed nor connected")
	}
	return nil
}

var errStarted = errors.New("the bot started")

// A policy file with presets and no rules does not open the bot to
// everyone: with ALLOWED_USERS and ALLOWED_CHANNELS empty, start-up fails
// and says how to open it.
func TestE2EPolicyWithoutRulesDoesNotOpenAccess(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.cfg.PolicyFile = writePolicy(t, "presets:\n  nightly:\n    cluster: 52\n    package: 434\n")
	e.cfg.AllowedUsers, e.cfg.AllowedChannels = nil, nil
	err := e.serveUntilConnected()
	if errors.Is(err, errStarted) || err == nil {
		t.Fatal("the bot started open to everyone: a policy file without rules and empty allowlists")
	}
	for _, want := range []string{"ALLOWED_USERS=*", "ALLOWED_CHANNELS=*", "has no rules"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := len(e.slack.Calls("")); n != 0 {
		t.Errorf("the bot called Slack %d times before refusing to start", n)
	}
}

// With rules, empty allowlists defer to them: the rules decide alone.
func TestE2EPolicyRulesDecideWhenAllowlistsAreEmpty(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.cfg.PolicyFile = writePolicy(t, testPolicy)
	e.cfg.AllowedUsers, e.cfg.AllowedChannels = nil, nil
	e.startBot()
	e.command("U9", "C7", "cluster=52 package=434")
	e.waitEphemeral("U9", "Not allowed: no rule lets you run")
	e.command("U1", "C7", "cluster=52 package=434")
	e.waitCard(1001, "idle")
	if n := e.runs(); n != 1 {
		t.Errorf("%d run requests, want 1 (U1's)", n)
	}
}

func (e *e2e) stops() int {
	n := 0
	for _, r := range e.xp.Requests() {
		if r.Method == http.MethodDelete {
			n++
		}
	}
	return n
}

// Stop and Re-run by job id act only on jobs of the channel they are typed
// in; the answer names nothing of the job.
func TestE2EStopAndRerunFromAnotherChannelAreRefused(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434 DATE=2026-11-01 DB_PASSWORD="+secretValue)
	e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusRunning)
	e.waitCard(1001, "running")

	e.command("U2", "C2", "rerun 1001")
	rerun := e.waitEphemeral("U2", "another channel")
	e.command("U2", "C2", "stop 1001")
	stop := e.waitEphemeral("U2", "Job 1001 was started in another channel")
	for _, m := range []slacktest.Message{rerun, stop} {
		if !strings.HasPrefix(m.Text, "Job 1001 was started in another channel") {
			t.Errorf("answer %q, want it to start with the refusal", m.Text)
		}
		for _, leak := range []string{"C1", "DATE", "2026-11-01", "DB_PASSWORD", "434", "52", "running", "U1"} {
			if strings.Contains(m.Text+blocks(m), leak) {
				t.Errorf("the refusal tells %q about the job: %q", leak, m.Text)
			}
		}
	}

	// A button on a card in C2 whose value names the job of C1 (a forged
	// or stale click) is refused the same way.
	e.command("U2", "C2", "cluster=52 package=500")
	other := e.waitCard(1002, "idle")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for _, action := range []string{render.ActionRerun, render.ActionStop} {
		id, err := e.slack.SendBlockAction(ctx, slacktest.BlockAction{UserID: "U3", ChannelID: other.Channel,
			MessageTS: other.TS, ActionID: action, Value: "1001"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.slack.WaitAck(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	e.wait("two refusals for U3", func(s *slacktest.Snapshot) bool {
		n := 0
		for _, m := range s.Ephemerals("U3") {
			if strings.Contains(m.Text, "Job 1001 was started in another channel") {
				n++
			}
		}
		return n == 2
	})

	denials := 0
	for _, a := range e.audit() {
		if a.Action == "deny" && a.JobID == 1001 && a.Outcome == "denied" {
			denials++
		}
	}
	if denials != 4 {
		t.Errorf("%d denials of job 1001 audited, want 4: %+v", denials, e.audit())
	}
	// Only the two jobs typed in their own channels ran; nothing was
	// stopped; no re-run sent U1's secret on behalf of U2 or U3.
	if n := e.runs(); n != 2 {
		t.Errorf("%d run requests, want 2", n)
	}
	if n := e.stops(); n != 0 {
		t.Errorf("%d stop requests, want 0", n)
	}
	if j, _ := e.xp.Job(1001); j.Status != xplenty.StatusRunning {
		t.Errorf("job 1001 is %s, want running", j.Status)
	}
	for _, id := range []int64{1003, 1004} {
		if _, ok := e.xp.Job(id); ok {
			t.Errorf("job %d was started", id)
		}
	}
	// In its own channel, the same person may stop it.
	e.command("U2", "C1", "stop 1001")
	e.waitCard(1001, "stopping")
}

// When Slack cannot list a user group the policy names, the person denied
// for want of it is told the group could not be checked.
func TestE2EUncheckedUserGroupIsSaid(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.cfg.PolicyFile = writePolicy(t, testPolicy)
	e.slack.SetUserGroup("S0ONCALL", []string{"U5"})
	// Every try of the lookup fails (the poster retries a failed read up
	// to five times).
	e.slack.FailNext("usergroups.users.list", 5, "internal_error")
	e.startBot()
	e.command("U5", "C1", "nightly")
	e.waitEphemeral("U5", "could not be checked with Slack")
	// Slack answers again: the same command runs.
	e.command("U5", "C1", "nightly")
	e.waitCard(1001, "idle")
}

// A job made from a preset that was since changed or removed is judged as
// a raw run of its recorded cluster and package, and its re-run does not
// claim the preset.
func TestE2EStalePresetJobIsJudgedAsARawRun(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	const preset = `
presets:
  nightly:
    cluster: %d
    package: 434
    variables: {MODE: full, SFTP_LOGIN: "` + secretValue + `"}
    secret_variables: [SFTP_LOGIN]
`
	const presetRule = `
rules:
  - name: presets
    users: [U1]
    channels: ["*"]
    presets: ["*"]
`
	e.cfg.PolicyFile = writePolicy(t, strings.ReplaceAll(preset, "%d", "52")+presetRule)
	stop := e.startBot()
	e.command("U1", "C1", "nightly")
	e.waitCard(1001, "idle")
	stop()

	// The preset now runs on another cluster: job 1001 is a raw run of
	// package 434 on cluster 52, which no rule allows.
	e.cfg.PolicyFile = writePolicy(t, strings.ReplaceAll(preset, "%d", "53")+presetRule)
	stop = e.startBot()
	e.command("U1", "C1", "rerun 1001")
	e.waitEphemeral("U1", "no rule lets you run package 434 on cluster 52")
	e.command("U1", "C1", "stop 1001")
	e.wait("two denials", func(s *slacktest.Snapshot) bool {
		n := 0
		for _, m := range s.Ephemerals("U1") {
			if strings.Contains(m.Text, "no rule lets you run package 434 on cluster 52") {
				n++
			}
		}
		return n == 2
	})
	if n, s := e.runs(), e.stops(); n != 1 || s != 0 {
		t.Fatalf("%d run and %d stop requests, want 1 and 0", n, s)
	}
	stop()

	// The preset is gone; a rule allows the raw run: the re-run starts it
	// with the recorded variables, secret and all, as a raw run.
	e.cfg.PolicyFile = writePolicy(t, `
rules:
  - name: raw
    users: [U1]
    channels: ["*"]
    packages: [434]
    clusters: [52]
`)
	e.startBot()
	e.command("U1", "C1", "rerun 1001")
	nc := e.waitCard(1002, "idle")
	j, _ := e.xp.Job(1002)
	if j.ClusterID != 52 || j.PackageID != 434 || j.Variables["MODE"] != "full" || j.Variables["SFTP_LOGIN"] != secretValue {
		t.Errorf("re-run sent %+v, want the recorded run", j)
	}
	if strings.Contains(nc.Text+blocks(nc), "nightly") {
		t.Errorf("the re-run's card claims the removed preset: %s", blocks(nc))
	}
	if !strings.Contains(blocks(nc), render.Mask) {
		t.Errorf("the re-run's card does not mask the recorded secret: %s", blocks(nc))
	}
	a := e.waitAudit("rerun", "started")
	if a.Preset != "" || a.JobID != 1002 || a.Detail != "allowed by rule raw" {
		t.Errorf("audit entry = %+v, want a raw run allowed by rule raw", a)
	}
}
