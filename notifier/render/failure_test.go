package render

import (
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
)

func TestFailureReplyShowsWhyAndWhatToDo(t *testing.T) {
	r := withStatus(freshRecord(), xplenty.StatusFailed)
	r.Variables = map[string]string{"DB_PASSWORD": "hunter22", "DATE": "2026-11-01"}
	r.SecretNames = []string{"DB_PASSWORD"}
	r.ErrorSummary = "Login failed for hunter22 <script>"
	r.ActionItems = []string{"Check the *credentials*.", "", "Retry the job."}
	text := strings.Join(messageStrings(t, Reply(r)), "\n")
	for _, want := range []string{"*Why:* Login failed for ", "&lt;script&gt;", "*What to do:*", "• Check the", "• Retry the job."} {
		if !strings.Contains(text, want) {
			t.Errorf("reply lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "hunter22") || strings.Contains(text, "<script>") {
		t.Errorf("reply shows a secret or raw markup:\n%s", text)
	}
	if strings.Count(text, "\n• ") != 2 {
		t.Errorf("an empty action item was shown:\n%s", text)
	}
	// Without a summary, the reply is what it was.
	r.ErrorSummary, r.ActionItems = "", nil
	if text := strings.Join(messageStrings(t, Reply(r)), "\n"); strings.Contains(text, "Why:") {
		t.Errorf("reply without a summary shows a Why section:\n%s", text)
	}
	// A completed job shows no summary even if one was kept.
	done := withStatus(freshRecord(), xplenty.StatusCompleted)
	done.ErrorSummary = "old"
	if text := strings.Join(messageStrings(t, Reply(done)), "\n"); strings.Contains(text, "Why:") {
		t.Errorf("completed reply shows a Why section:\n%s", text)
	}
}

func TestFailureStreak(t *testing.T) {
	at := time.Date(2026, 11, 30, 2, 14, 0, 0, time.UTC)
	for _, tc := range []struct {
		s    Streak
		want string
	}{
		{Streak{}, ""},
		{Streak{Failures: 1, LastSuccess: 987, LastSuccessAt: at}, ""},
		{Streak{Failures: 2, LastSuccess: 987, LastSuccessAt: at}, "2nd failure in a row; last success 2026-11-30 02:14 UTC, job 987"},
		{Streak{Failures: 3}, "3rd failure in a row; no success in my records"},
		{Streak{Failures: 11}, "11th failure in a row; no success in my records"},
		{Streak{Failures: 21}, "21st failure in a row; no success in my records"},
	} {
		if got := streakLine(tc.s); got != tc.want {
			t.Errorf("streakLine(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
	r := withStatus(freshRecord(), xplenty.StatusFailed)
	text := strings.Join(messageStrings(t, ReplyWithStreak(r, Streak{Failures: 2, LastSuccess: 987, LastSuccessAt: at}, Ping)), "\n")
	if !strings.Contains(text, "2nd failure in a row") {
		t.Errorf("failure reply lacks the streak:\n%s", text)
	}
	ok := withStatus(freshRecord(), xplenty.StatusCompleted)
	if text := strings.Join(messageStrings(t, ReplyWithStreak(ok, Streak{Failures: 2}, Ping)), "\n"); strings.Contains(text, "in a row") {
		t.Errorf("completed reply shows a failure streak:\n%s", text)
	}
}

func TestLogMessage(t *testing.T) {
	r := freshRecord()
	r.Variables = map[string]string{"API_TOKEN": "tok-123456"}
	r.SecretNames = []string{"API_TOKEN"}
	var b strings.Builder
	for i := 0; i < 500; i++ {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("x", i%40))
		b.WriteString("\n")
	}
	b.WriteString("ERROR: auth with tok-123456 failed ``` <@U999>\n")
	m := LogMessage(r, b.String())
	text := strings.Join(messageStrings(t, m), "\n")
	for _, want := range []string{"Log of job 1001", "(its end)", "the whole log", "ERROR: auth with", "&lt;@U999&gt;"} {
		if !strings.Contains(text, want) {
			t.Errorf("log message lacks %q", want)
		}
	}
	if strings.Contains(text, "tok-123456") {
		t.Error("log message shows the secret")
	}
	if strings.Count(text, "line ") > logTailLines {
		t.Errorf("log message shows %d lines, want at most %d", strings.Count(text, "line "), logTailLines)
	}
	if !strings.Contains(m.Text, "1001") {
		t.Errorf("fallback %q lacks the job id", m.Text)
	}
	huge := strings.Repeat("y", 10000)
	if got := strings.Join(messageStrings(t, LogMessage(r, huge)), "\n"); textLen(got) > 3500 {
		t.Errorf("a one-line 10,000-character log renders %d characters", textLen(got))
	}
	if got := strings.Join(messageStrings(t, LogMessage(r, "  \n")), "\n"); !strings.Contains(got, "empty") {
		t.Errorf("empty log renders %q", got)
	}
}
