package render

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/runjob/runjob/commands"
)

func TestFollowedElsewhereCard(t *testing.T) {
	s := Starting{Requester: "U1", Run: commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DB_PASSWORD": "hunter2"}, SecretNames: []string{"DB_PASSWORD"}}}
	m := FollowedElsewhereCard(s, 1001, "https://app.xplenty.com/acme/jobs/1001|<!channel>")
	for _, want := range []string{"Job 1001", "followed on another card"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("fallback %q lacks %q", m.Text, want)
		}
	}
	b, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	blocks := string(b)
	if !strings.Contains(blocks, "https://app.xplenty.com/acme/jobs/1001") || strings.Contains(blocks, "<!channel>") {
		t.Errorf("blocks = %s, want the job's page linked, its address made safe", blocks)
	}
	if strings.Contains(blocks, "hunter2") || strings.Contains(m.Text, "hunter2") {
		t.Errorf("card shows a secret value: %s", blocks)
	}
	if strings.Contains(blocks, ActionStop) || strings.Contains(blocks, ActionRerun) {
		t.Errorf("card has buttons; the other card has them: %s", blocks)
	}
}
