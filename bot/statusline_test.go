package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/xplenty"
)

// Xplenty's html_url and status are its text: a | or > in the URL must not
// end the link target and put words of Xplenty's choosing in the answer,
// and control characters or bidi overrides in the status must not reach it.
func TestStatusAndListCannotBeSpoofedByXplentysText(t *testing.T) {
	f := newRecoverFixture(t)
	ctx := context.Background()
	rec := job.Record{
		JobID: 1001, Channel: "C1", CardTS: "1700000000.000100", Requester: "U1", Run: commands.Run{ClusterID: 52, PackageID: 434},
		Status:  xplenty.Status("weird\r\n\x1b[2J\u202ehtap"),
		HTMLURL: "https://app.xplenty.com/acct/jobs/1001?x=1|Evil link> <https://evil.example|click here",
	}
	if err := f.store.Track(ctx, rec); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"status 1001", "list"} {
		f.bot.HandleCommand(ctx, Request{UserID: "U1", ChannelID: "C1", EventKey: "statusline-" + text}, text)
		answers := f.slack.Ephemerals("U1")
		if len(answers) != i+1 {
			t.Fatalf("%q: %d answers, want %d", text, len(answers), i+1)
		}
		got := answers[i].Text
		// Two |: the date's fallback and the link's label.
		if strings.Count(got, "|") != 2 || !strings.Contains(got, "|open>") {
			t.Errorf("%q: the link target was broken out of: %q", text, got)
		}
		if !strings.Contains(got, "https://app.xplenty.com/acct/jobs/1001?x=1%7CEvil%20link%3E%20%3Chttps://evil.example%7Cclick%20here|open>") {
			t.Errorf("%q: the link does not keep Xplenty's URL encoded: %q", text, got)
		}
		for _, bad := range []string{"\r", "\x1b", "\u202e", "<https://evil"} {
			if strings.Contains(got, bad) {
				t.Errorf("%q: answer holds %q: %q", text, bad, got)
			}
		}
		if !strings.Contains(got, "weird") {
			t.Errorf("%q: answer lacks the status: %q", text, got)
		}
	}
}
