package bot

import (
	"strings"
	"testing"
	"unicode"

	"github.com/runjob/runjob/xplenty"
)

// Names, descriptions and statuses from Xplenty are untrusted text: in the
// answers of packages, clusters and names that do not resolve they are
// escaped, and hold no control characters or bidi overrides (which the
// shell's terminal, and some Slack clients, obey).
func TestUseCaseHostileCatalogTextStaysText(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{coldCatalog: true})
	evil := "\x1b[2J\u202e<!channel>|<https://evil.example|x>\x07"
	for _, p := range []xplenty.Package{
		{ID: 900, Name: "evil_a" + evil, Description: "d" + evil},
		{ID: 901, Name: "evil_b" + evil},
	} {
		if err := uc.xp.AddPackage(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := uc.xp.AddCluster(xplenty.Cluster{ID: 902, Name: "bad" + evil, Status: xplenty.ClusterStatus("<!here>\x1b[31m"), Type: "t" + evil}); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"packages evil", "clusters", "cluster=52 package=evil", "cluster=48 package=434", "cluster=52 package=evil_" + "x"} {
		uc.command(t, "U1", "C1", text)
		a := uc.answer("U1")
		if !strings.Contains(a, "evil") && !strings.Contains(a, "bad") {
			t.Errorf("%s: answer %q does not show the names", text, a)
		}
		for _, r := range a {
			if r != '\n' && unicode.IsControl(r) || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
				t.Errorf("%s: answer holds U+%04X: %q", text, r, a)
				break
			}
		}
		if strings.Contains(a, "<!") || strings.Contains(a, "<https://evil") {
			t.Errorf("%s: answer holds markup from Xplenty: %q", text, a)
		}
	}
}
