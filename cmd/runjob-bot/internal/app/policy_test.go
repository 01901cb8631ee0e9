package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/commands"
)

func TestRunRejectsABadPolicyWithItsLine(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/policy.yaml"
	if err := writeFile(path, "presets:\n  nightly:\n    cluster: -1\n    package: 434\n"); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadPolicy(config.Config{PolicyFile: path})
	if err == nil || !strings.Contains(err.Error(), "policy.yaml:3") {
		t.Errorf("err = %v, want the file and line 3", err)
	}
}

// The contract says access is open only where someone wrote "*". With
// ALLOWED_USERS and ALLOWED_CHANNELS empty the rules decide alone, so a rule
// that does not say who, or where, must stop start-up: read as "everyone" or
// "everywhere" it would open a package to people nobody named.
func TestPolicyRuleThatDoesNotSayWhoOrWhereStopsStartUp(t *testing.T) {
	for _, c := range []struct {
		name, rule string
		who        policy.Subject
		what       commands.Run
		want       string
	}{
		{"channel only", "  - name: ops\n    channels: [C0OPS]\n    packages: [434]\n    clusters: [52]\n",
			policy.Subject{User: "URANDOM1", Channel: "C0OPS"}, commands.Run{ClusterID: 52, PackageID: 434},
			`policy.yaml:4: rule "ops" says where (channels) but not who: add users: [...] or groups: [...], or users: ["*"] for everyone`},
		{"user only", "  - name: ops\n    users: [U1]\n    presets: [x]\n",
			policy.Subject{User: "U1", Channel: "D0DIRECT1"}, commands.Run{Preset: "x"},
			`policy.yaml:4: rule "ops" says who (users) but not where: add channels: [...], or channels: ["*"] for every channel`},
	} {
		path := writePolicy(t, "presets:\n  x: {cluster: 52, package: 434}\nrules:\n"+c.rule)
		pol, _, err := LoadPolicy(config.Config{PolicyFile: path})
		if err == nil {
			users, channels, _ := config.Allowlists(nil, nil, path, pol.HasRules())
			t.Errorf("%s: the policy starts with allowlists %v, %v, and decides %+v for %+v running %+v",
				c.name, users, channels, pol.Decide(c.who, c.what), c.who, c.what)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v\nwant it to say %s", c.name, err, c.want)
		}
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
