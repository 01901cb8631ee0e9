package render

import (
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
)

func TestWatchdogNotes(t *testing.T) {
	r := freshRecord()
	r.Status = xplenty.StatusRunning
	cases := []struct {
		name string
		msg  Message
		want string
	}{
		{"slow by history", SlowNote(r, 2*time.Hour+5*time.Minute, 14*time.Minute, Ping),
			"<@U123ABC> 🐢 Job 1001 is still running after 2 h 05 min; runs of package 434 on cluster 52 usually take 14 min. I'll keep following it."},
		{"slow, no history", SlowNote(r, 40*time.Second, 0, Ping),
			"<@U123ABC> 🐢 Job 1001 is still running after 40 s. I'll keep following it."},
		{"queued", QueuedNote(r, 35*time.Minute, Ping),
			"<@U123ABC> 🕒 Job 1001 has been queued for 35 min, waiting for resources on cluster 52. I'll keep following it."},
		{"stopping", StoppingNote(r, 59*time.Minute+50*time.Second, Ping),
			"<@U123ABC> 🛑 Job 1001 has been waiting to stop (pending stoppage) for 1 h 00 min; Xplenty has not stopped it yet. I'll keep following it."},
	}
	p := r
	p.Preset = "nightly<b>"
	p.MaxRuntime = time.Hour
	cases = append(cases, struct {
		name string
		msg  Message
		want string
	}{"slow past the preset's max", SlowNote(p, 2*time.Hour, 14*time.Minute, Ping),
		"<@U123ABC> 🐢 Job 1001 is still running after 2 h 00 min, past the 1 h 00 min its preset allows; runs of nightly&lt;b&gt; usually take 14 min. I'll keep following it."})
	for _, c := range cases {
		if c.msg.Text != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, c.msg.Text, c.want)
		}
	}
	r.Requester = "not a user id"
	if got := QueuedNote(r, time.Hour, Ping).Text; strings.Contains(got, "<@") {
		t.Errorf("note for a requester that is no user id mentions: %q", got)
	}
}

// A running card with history says the usual runtime and the time left;
// without history it is the card it always was.
func TestRunningCardEstimate(t *testing.T) {
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	r := freshRecord()
	r.Status = xplenty.StatusRunning
	r.Progress = 0.5
	r.StatusSince = now.Add(-5 * time.Minute)
	withHistory := CardWith(r, CardContext{Usual: 14 * time.Minute, Now: now})
	if want := "usually ~14 min · about 5 min left"; !strings.Contains(string(marshalMessage(t, withHistory)), want) || !strings.Contains(withHistory.Text, want) {
		t.Errorf("card with history lacks %q: %s", want, marshalMessage(t, withHistory))
	}
	if got, want := marshalMessage(t, CardWith(r, CardContext{Now: now})), marshalMessage(t, Card(r)); string(got) != string(want) {
		t.Errorf("card without history differs from Card:\n%s\n%s", got, want)
	}
	r.Progress = 0
	if got := CardWith(r, CardContext{Usual: 14 * time.Minute, Now: now}).Text; !strings.HasSuffix(got, "usually ~14 min") {
		t.Errorf("card at 0%% = %q, want the usual runtime and no time left", got)
	}
	r.Status, r.Progress = xplenty.StatusQueued, 0.5
	if got := CardWith(r, CardContext{Usual: 14 * time.Minute, Now: now}).Text; strings.Contains(got, "usually") {
		t.Errorf("queued card = %q, want no estimate", got)
	}
}
