package render

import (
	"strings"
	"testing"
)

// Xplenty, a gateway or a log may echo a secret escaped rather than as
// typed; each common escaping of it is masked like the value itself.
func TestScrubMasksEscapedForms(t *testing.T) {
	const secret = `Zq8vK&w7"<é> Xk9'`
	s := NewScrubber([]string{"DB_PASSWORD"}, map[string]string{"DB_PASSWORD": secret, "SHORT": "a&b", "DATE": "x&y<z>"})
	for name, text := range map[string]string{
		"literal":           `value Zq8vK&w7"<é> Xk9' refused`,
		"json":              `{"errors":{"base":["value Zq8vK\u0026w7\"\u003cé\u003e Xk9' refused"]}}`,
		"json, html kept":   `{"errors":{"base":["value Zq8vK&w7\"<é> Xk9' refused"]}}`,
		"html (Go)":         `<p>value Zq8vK&amp;w7&#34;&lt;é&gt; Xk9&#39; refused</p>`,
		"html (&quot;)":     `<p>value Zq8vK&amp;w7&quot;&lt;é&gt; Xk9&#39; refused</p>`,
		"url query":         `GET /run?DB_PASSWORD=Zq8vK%26w7%22%3C%C3%A9%3E+Xk9%27 refused`,
		"url path":          `GET /run/Zq8vK&w7%22%3C%C3%A9%3E%20Xk9%27 refused`,
		"two forms at once": `Zq8vK&amp;w7&#34;&lt;é&gt; Xk9&#39; and Zq8vK\u0026w7\"\u003cé\u003e Xk9'`,
	} {
		t.Run(name, func(t *testing.T) {
			got := s.Scrub(text)
			if strings.Contains(got, "Xk9") || !strings.Contains(got, Mask) {
				t.Errorf("Scrub(%q) = %q, want the secret masked", text, got)
			}
			if sum := s.Summary(text, 500); strings.Contains(sum, "Xk9") {
				t.Errorf("Summary(%q) = %q, want the secret masked", text, sum)
			}
		})
	}
	// Too short to scrub, escaped or not; not secret at all.
	for _, text := range []string{"a&b a&amp;b a%26b", "x&amp;y&lt;z&gt;"} {
		if got := s.Scrub(text); got != text {
			t.Errorf("Scrub(%q) = %q, want it unchanged", text, got)
		}
	}
}

// A longer form is replaced whole before a shorter secret found inside it.
func TestScrubLongestFormFirst(t *testing.T) {
	s := NewScrubber([]string{"A", "B"}, map[string]string{"A": "p&q-long-secret", "B": "long-secret"})
	if got, want := s.Scrub("x p&amp;q-long-secret y"), "x "+Mask+" y"; got != want {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
}
