package bot

import "testing"

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
