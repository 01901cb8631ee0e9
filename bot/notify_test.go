package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/store"
)

func TestUseCaseNotifyShowsAndChanges(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	if got := uc.command(t, "U1", "C1", "notify"); got != "notify" {
		t.Fatalf("outcome = %q, want notify; answer %q", got, uc.answer("U1"))
	}
	if a := uc.answer("U1"); !strings.Contains(a, "`all`") || !strings.Contains(a, "`broadcast=off`") || !strings.Contains(a, "`mention=on`") {
		t.Errorf("answer = %q, want the defaults", a)
	}
	if n := len(uc.audit(t)); n != 0 {
		t.Errorf("showing the settings wrote %d audit entries", n)
	}

	if got := uc.command(t, "U2", "C1", "notify failures mention=off"); got != "notify" {
		t.Fatalf("outcome = %q, want notify; answer %q", got, uc.answer("U2"))
	}
	if a := uc.answer("U2"); !strings.Contains(a, "Done") || !strings.Contains(a, "`failures`") || !strings.Contains(a, "`mention=off`") {
		t.Errorf("answer = %q, want the new settings", a)
	}
	want := store.NotifySettings{Level: commands.NotifyFailures, Broadcast: commands.NotifyOff, Mention: false}
	if got, err := uc.store.Notify(context.Background(), "C1"); err != nil || got != want {
		t.Errorf("settings of C1 = %+v, %v; want %+v", got, err, want)
	}
	if got, _ := uc.store.Notify(context.Background(), "C2"); got != store.DefaultNotify {
		t.Errorf("settings of C2 = %+v, want the defaults", got)
	}
	entries := uc.audit(t)
	if len(entries) != 1 || entries[0].Action != "notify" || entries[0].Outcome != "changed" ||
		entries[0].User != "U2" || entries[0].Channel != "C1" || entries[0].Detail != "level all → failures, mention on → off" {
		t.Errorf("audit = %+v, want one notify entry with what changed", entries)
	}

	uc.command(t, "U2", "C1", "notify failures broadcast=failures")
	entries = uc.audit(t)
	if last := entries[len(entries)-1]; last.Outcome != "changed" || last.Detail != "level failures (unchanged), broadcast off → failures" {
		t.Errorf("audit of a partial change = %+v", last)
	}
	uc.command(t, "U2", "C1", "notify failures")
	entries = uc.audit(t)
	if last := entries[len(entries)-1]; last.Outcome != "unchanged" {
		t.Errorf("audit of no change = %+v", last)
	}
	if a := uc.answer("U2"); !strings.Contains(a, "already") {
		t.Errorf("answer to no change = %q", a)
	}
}

func TestUseCaseNotifyBadInput(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	for text, want := range map[string]string{
		"notify loud":              "`loud`: this is not a notify setting",
		"notify broadcast=all":     "`broadcast` is `failures` or `off`",
		"notify mention=<@U1>":     "can't hold one",
		"notify all off":           "already set by `all`",
		"notify mention=&lt;b&gt;": "`mention=&lt;b&gt;`",
	} {
		if got := uc.command(t, "U1", "C1", text); got != "invalid" {
			t.Errorf("%q: outcome %q, want invalid", text, got)
		}
		if a := uc.answer("U1"); !strings.Contains(a, want) {
			t.Errorf("%q: answer %q, want %q", text, a, want)
		}
	}
	if got, _ := uc.store.Notify(context.Background(), "C1"); got != store.DefaultNotify {
		t.Errorf("bad input changed the settings to %+v", got)
	}
	if n := len(uc.audit(t)); n != 0 {
		t.Errorf("bad input wrote %d audit entries", n)
	}
}

// With rules, whoever a rule names in a channel may change what it hears,
// whatever the rule lets them run; nobody else, not even to the same
// settings. Anyone may look.
func TestUseCaseNotifyUnderPolicy(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{policy: `
presets:
  nightly: {cluster: 52, package: 434}
rules:
  - name: data-team
    users: [U1]
    groups: [S0DATA]
    channels: [C1]
    presets: [nightly]
`})
	uc.slack.SetUserGroup("S0DATA", []string{"U3"})
	for _, tc := range []struct {
		user, channel, outcome string
	}{
		{"U1", "C1", "notify"},
		{"U3", "C1", "notify"}, // by the group
		{"U2", "C1", "denied"},
		{"U1", "C2", "denied"},
	} {
		if got := uc.command(t, tc.user, tc.channel, "notify off"); got != tc.outcome {
			t.Errorf("%s in %s: outcome %q, want %q; answer %q", tc.user, tc.channel, got, tc.outcome, uc.answer(tc.user))
		}
	}
	if a := uc.answer("U2"); !strings.Contains(a, "Not allowed") || !strings.Contains(a, "no rule names you in this channel") {
		t.Errorf("denial = %q", a)
	}
	if got, _ := uc.store.Notify(context.Background(), "C2"); got != store.DefaultNotify {
		t.Errorf("a denied change was made: %+v", got)
	}
	if got := uc.command(t, "U2", "C2", "notify"); got != "notify" {
		t.Errorf("showing the settings under a policy: outcome %q", got)
	}
	var changed, denied int
	for _, e := range uc.audit(t) {
		switch {
		case e.Action == "notify" && e.Outcome == "changed" && strings.Contains(e.Detail, "allowed by rule data-team"):
			changed++
		case e.Action == "deny" && strings.HasPrefix(e.Detail, "notify: "):
			denied++
		}
	}
	if changed != 1 || denied != 2 {
		t.Errorf("audit has %d changes and %d denials, want 1 and 2: %+v", changed, denied, uc.audit(t))
	}
}
