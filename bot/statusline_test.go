package bot

import (
	"context"
	"fmt"
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

// The status and list answers name the package (linked to its page) and
// the cluster beside their ids; names from Xplenty stay text, and a job
// whose names are unknown reads as before names.
func TestStatusAndListShowNamesBesideIDs(t *testing.T) {
	f := newRecoverFixture(t)
	ctx := context.Background()
	const pkgURL = "https://app.xplenty.com/acme/packages/434"
	named := job.Record{
		JobID: 1001, Channel: "C1", CardTS: "1700000000.000100", Requester: "U1", Status: xplenty.StatusCompleted,
		Run: commands.Run{ClusterID: 52, PackageID: 434, PackageName: "orders_daily", ClusterName: "prod-etl", PackageURL: pkgURL},
	}
	hostile := job.Record{
		JobID: 1002, Channel: "C1", CardTS: "1700000000.000200", Requester: "U1", Status: xplenty.StatusFailed,
		Run: commands.Run{ClusterID: 53, PackageID: 435, PackageName: "<!channel> a|b>", ClusterName: strings.Repeat("x", 300), PackageURL: pkgURL},
	}
	unnamed := job.Record{
		JobID: 1003, Channel: "C1", CardTS: "1700000000.000300", Requester: "U1", Status: xplenty.StatusStopped,
		Run: commands.Run{ClusterID: 54, PackageID: 436},
	}
	for _, r := range []job.Record{named, hostile, unnamed} {
		if err := f.store.Track(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int64]string{
		1001: "✅ Job 1001: *completed* · <" + pkgURL + "|orders_daily> (434) on prod-etl (52) · started by <@U1>",
		1002: "❌ Job 1002: *failed* · <" + pkgURL + "|&lt;!channel&gt; a∣b&gt;> (435) on " + strings.Repeat("x", 79) + "… (53) · started by <@U1>",
		1003: "⏹️ Job 1003: *stopped* · package 436 on cluster 54 · started by <@U1>",
	}
	var answers []string
	for id, line := range want {
		f.bot.HandleCommand(ctx, Request{UserID: "U1", ChannelID: "C1", EventKey: fmt.Sprintf("names-status-%d", id)}, fmt.Sprintf("status %d", id))
		eph := f.slack.Ephemerals("U1")
		got := eph[len(eph)-1].Text
		if !strings.HasPrefix(got, line) {
			t.Errorf("status %d = %q, want it to start with %q", id, got, line)
		}
		answers = append(answers, got)
	}
	f.bot.HandleCommand(ctx, Request{UserID: "U1", ChannelID: "C1", EventKey: "names-list"}, "list")
	eph := f.slack.Ephemerals("U1")
	list := eph[len(eph)-1].Text
	for _, line := range want {
		if !strings.Contains(list, "• "+line) {
			t.Errorf("list = %q, want a line starting %q", list, line)
		}
	}
	for _, a := range append(answers, list) {
		if strings.Contains(a, "<!channel>") || strings.Contains(a, "a|b") {
			t.Errorf("a name broke out of its text: %q", a)
		}
	}
}
