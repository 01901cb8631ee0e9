package render

import (
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// A Quiet reply or note mentions nobody and still says what happened; a
// Ping one mentions the requester.
func TestQuietMessagesMentionNobody(t *testing.T) {
	r := freshRecord()
	stopped := r
	stopped.Status, stopped.StoppedBy = xplenty.StatusStopped, "U0STOPPER"
	failed := r
	failed.Status, failed.Errors = xplenty.StatusFailed, "boom"
	completed := r
	completed.Status = xplenty.StatusCompleted
	for _, tc := range []struct {
		name        string
		ping, quiet Message
		says        string
	}{
		{"completed", ReplyWithStreak(completed, Streak{}, Ping), ReplyWithStreak(completed, Streak{}, Quiet), "completed"},
		{"failed", ReplyWithStreak(failed, Streak{Failures: 2}, Ping), ReplyWithStreak(failed, Streak{Failures: 2}, Quiet), "failed"},
		{"stopped", ReplyWithStreak(stopped, Streak{}, Ping), ReplyWithStreak(stopped, Streak{}, Quiet), "was stopped from Slack"},
		{"lost", LostNote(r, Ping), LostNote(r, Quiet), "lost"},
		{"unreadable", UnreadableNote(r, 3, "timeout", Ping), UnreadableNote(r, 3, "timeout", Quiet), "unreadable"},
		{"slow", SlowNote(r, time.Hour, 0, Ping), SlowNote(r, time.Hour, 0, Quiet), "still running"},
		{"queued", QueuedNote(r, time.Hour, Ping), QueuedNote(r, time.Hour, Quiet), "queued"},
		{"stopping", StoppingNote(r, time.Hour, Ping), StoppingNote(r, time.Hour, Quiet), "waiting to stop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ping := strings.Join(messageStrings(t, tc.ping), "\n")
			quiet := strings.Join(messageStrings(t, tc.quiet), "\n")
			if !strings.Contains(ping, "<@U123ABC>") {
				t.Errorf("Ping message does not mention the requester: %s", ping)
			}
			if strings.Contains(quiet, "<@") {
				t.Errorf("Quiet message mentions someone: %s", quiet)
			}
			if !strings.Contains(tc.quiet.Text, "1001") || !strings.Contains(quiet, tc.says) {
				t.Errorf("Quiet message %q lacks the job id or %q", quiet, tc.says)
			}
		})
	}
	if got := ReplyWithStreak(stopped, Streak{}, Ping).Text; !strings.Contains(got, "by <@U0STOPPER>") {
		t.Errorf("Ping stopped reply = %q, want who stopped it", got)
	}
	nobody := stopped
	nobody.StoppedBy = ""
	if got := ReplyWithStreak(nobody, Streak{}, Quiet).Text; !strings.Contains(got, "stopped in Xplenty") {
		t.Errorf("Quiet reply of a job stopped in Xplenty = %q", got)
	}
}

func TestDirectReply(t *testing.T) {
	r := freshRecord()
	r.Status = xplenty.StatusFailed
	for _, m := range []Message{ReplyWithStreak(r, Streak{}, Ping), LostNote(r, Ping)} {
		dm := DirectReply(m, "C0RUNJOB")
		text := strings.Join(messageStrings(t, dm), "\n")
		if !strings.Contains(dm.Text, "<#C0RUNJOB>") || !strings.Contains(text, "no longer post") {
			t.Errorf("direct message does not say which channel it was for: %s", text)
		}
		if !strings.Contains(dm.Text, "1001") || !strings.Contains(dm.Text, m.Text[strings.Index(m.Text, "Job"):]) {
			t.Errorf("direct message fallback %q lost the message's %q", dm.Text, m.Text)
		}
		if len(dm.Blocks) < 2 {
			t.Errorf("direct message has %d blocks, want the channel's and the message's", len(dm.Blocks))
		}
	}
	// A channel id that is none is not written as markup.
	if dm := DirectReply(LostNote(r, Ping), "<!channel>"); strings.Contains(dm.Text, "<!channel>") || strings.Contains(dm.Text, "<#") {
		t.Errorf("direct message for a strange channel = %q", dm.Text)
	}
}
