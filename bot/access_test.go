package bot

import (
	"strings"
	"testing"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/commands"
)

func TestAllowlist(t *testing.T) {
	cases := []struct {
		users, channels []string
		user, channel   string
		want            bool
	}{
		{[]string{"*"}, []string{"*"}, "U1", "C1", true},
		{[]string{"U1"}, []string{"*"}, "U1", "C9", true},
		{[]string{"U1"}, []string{"*"}, "U2", "C1", false},
		{[]string{"*"}, []string{"C1", "C2"}, "U7", "C2", true},
		{[]string{"*"}, []string{"C1"}, "U7", "C3", false},
		{[]string{" U1 ", "W2"}, []string{"G1"}, "W2", "G1", true},
		{nil, []string{"*"}, "U1", "C1", false}, // an empty list allows nobody
	}
	for _, c := range cases {
		a, err := ParseAllowlist(c.users, c.channels)
		if err != nil {
			t.Fatalf("ParseAllowlist(%v, %v): %v", c.users, c.channels, err)
		}
		if got := a.Allowed(c.user, c.channel); got != c.want {
			t.Errorf("users %v channels %v: Allowed(%s, %s) = %v, want %v", c.users, c.channels, c.user, c.channel, got, c.want)
		}
	}
}

func TestAllowlistRejectsNames(t *testing.T) {
	for _, bad := range [][]string{{"@alice"}, {"#general"}, {"u123"}} {
		if _, err := ParseAllowlist(bad, []string{"*"}); err == nil {
			t.Errorf("ParseAllowlist(%v) accepted a name, want an error", bad)
		}
	}
}

func TestEventKeyPrefersTriggerID(t *testing.T) {
	if got := eventKey("1337.42.abc", "env-1"); got != "trigger:1337.42.abc" {
		t.Errorf("eventKey = %q", got)
	}
	if got := eventKey("", "env-1"); got != "envelope:env-1" {
		t.Errorf("eventKey without trigger = %q", got)
	}
}

func TestParseErrorHidesSecretValues(t *testing.T) {
	b := &Bot{secrets: mustSecrets(t)}
	for _, text := range []string{
		`cluster=52 package=434 DB_PASSWORD='hunter2`,
		`cluster=52 package=434 DB_PASSWORD=hun"ter2 x"`,
		`cluster=52 package=434 API_TOKEN:=hunter2'`,
		// The error quotes an earlier token that set the secret.
		`cluster=52 package=434 DB_PASSWORD=hunter2 DB_PASSWORD=x2`,
		`cluster=52 package=434 DB_PASSWORD:=hunter2 DB_PASSWORD=x2`,
		`cluster=52 package=434 DB_PASSWORD="hunter2 x" DB_PASSWORD:=Now()`,
	} {
		_, err := commands.Parse(text)
		if err == nil {
			t.Fatalf("%q parsed", text)
		}
		if msg := b.parseErrorText(err); strings.Contains(msg, "hunter2") || strings.Contains(msg, "hun") {
			t.Errorf("%q: the answer shows the secret: %s", text, msg)
		}
	}
	_, err := commands.Parse("cluster=1.5 package=1")
	if msg := b.parseErrorText(err); !strings.Contains(msg, "cluster=1.5") {
		t.Errorf("a non-secret token is hidden: %s", msg)
	}
	_, err = commands.Parse("cluster=52 package=434 DATE=2026-11-01 DATE=x")
	if msg := b.parseErrorText(err); !strings.Contains(msg, "`DATE=2026-11-01`") {
		t.Errorf("a non-secret earlier token is hidden: %s", msg)
	}
}

func mustSecrets(t *testing.T) *policy.Secrets {
	t.Helper()
	s, err := policy.NewSecrets("", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
