package render

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/runjob/runjob/xplenty"
)

// Markup in Xplenty's summary and action items stays text: no mention, no
// code span or fence of Xplenty's making, and within Slack's limits however
// long or many the items are.
func TestFailureWhyResistsMarkup(t *testing.T) {
	r := withStatus(freshRecord(), xplenty.StatusFailed)
	r.Variables = map[string]string{"DB_PASSWORD": "hunter22"}
	r.SecretNames = []string{"DB_PASSWORD"}
	r.ErrorSummary = "<!channel> <@U0BOSS> ```fence``` `hunter22` \u202eevil" + strings.Repeat("x", 100000)
	for range 1000 {
		r.ActionItems = append(r.ActionItems, "<!here> ``` "+strings.Repeat("y", 5000))
	}
	for _, s := range messageStrings(t, Reply(r)) {
		if strings.Contains(s, "<!") || strings.Contains(s, "<@U0BOSS") || strings.Contains(s, "hunter22") || strings.Contains(s, "\u202e") {
			t.Errorf("raw markup, a secret or a bidi override reached Slack: %.200q", s)
		}
		if strings.Contains(s, "`") {
			t.Errorf("a backtick of Xplenty's can open code in the reply: %.200q", s)
		}
		if n := len(utf16.Encode([]rune(s))); n > 3000 {
			t.Errorf("a text of %d code units is over Slack's 3,000", n)
		}
	}
}

// A 100,000-character log on one line, or of many lines, with fences,
// mentions and the secret, posts one code block within Slack's limits.
func TestLogMessageHuge(t *testing.T) {
	r := withStatus(freshRecord(), xplenty.StatusFailed)
	r.Variables = map[string]string{"DB_PASSWORD": "hunter22"}
	r.SecretNames = []string{"DB_PASSWORD"}
	for _, body := range []string{
		strings.Repeat("a&<b> hunter22 ```<!channel>", 100000/28),
		strings.Repeat("line hunter22 ``` <@U1> &amp;\n", 4000),
		strings.Repeat("é😀", 50000),
	} {
		m := LogMessage(r, body)
		for _, s := range messageStrings(t, m) {
			if strings.Contains(s, "hunter22") || strings.Contains(s, "<!") || strings.Contains(s, "<@") {
				t.Errorf("log shows a secret or a mention: %.200q", s)
			}
			if strings.Count(s, "```") > 2 {
				t.Errorf("the log's fences reached Slack: %.200q", s)
			}
			if n := len(utf16.Encode([]rune(s))); n > 3000 {
				t.Errorf("a text of %d code units is over Slack's 3,000", n)
			}
		}
	}
}

// A secret value holding a backtick is masked in the Why section too.
func TestFailureWhySecretWithBacktick(t *testing.T) {
	r := withStatus(freshRecord(), xplenty.StatusFailed)
	r.Variables = map[string]string{"DB_PASSWORD": "hun`ter22"}
	r.SecretNames = []string{"DB_PASSWORD"}
	r.ErrorSummary = "login hun`ter22 refused"
	r.ActionItems = []string{"try hun`ter22 again"}
	for _, s := range messageStrings(t, Reply(r)) {
		if strings.Contains(s, "ter22") {
			t.Errorf("the secret shows: %q", s)
		}
	}
}
