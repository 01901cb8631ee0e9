package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/notifier/job"
)

// ActionLog is the action id of a failed card's Show log button; its value
// is the job id.
const ActionLog = "runjob_log"

const (
	blockWhy     = "runjob_why"    // Xplenty's summary of a failure and what to do
	blockStreak  = "runjob_streak" // earlier runs of the same package on the same cluster
	blockLog     = "runjob_log"    // a job's log, posted by Show log
	maxSummary   = 1000            // Xplenty's error summary
	maxItem      = 300             // one suggested action
	maxItems     = 5               // suggested actions shown
	maxLogText   = 2800            // a job's log, in a code block inside one section
	logTailLines = 60              // the end of a log is where a failure shows
)

// Streak is what the bot's own records say about the runs of a failed
// job's package on its cluster before it.
type Streak struct {
	// Failures counts the failures in a row, this one included.
	Failures int
	// LastSuccess is the job id of the last completed run; 0 when the
	// records hold none.
	LastSuccess   int64
	LastSuccessAt time.Time
}

// why renders Xplenty's summary of a failure and its suggested actions;
// nil when it gave none. Backticks are swapped (see noBackticks), as in the
// error text, so that Xplenty's text cannot open code that runs on.
func (rd renderer) why(r job.Record) slack.Block {
	summary := rd.oneLineNoCode(r.ErrorSummary, maxSummary)
	var b strings.Builder
	if summary != "" {
		b.WriteString("*Why:* " + summary)
	}
	shown := 0
	for _, it := range r.ActionItems {
		it = rd.oneLineNoCode(it, maxItem)
		if it == "" || shown == maxItems {
			continue
		}
		if shown == 0 {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString("*What to do:*")
		}
		b.WriteString("\n• " + it)
		shown++
	}
	if b.Len() == 0 {
		return nil
	}
	return section(blockWhy, b.String())
}

// oneLineNoCode is text without backticks: scrubbed (before the swap, so
// a secret holding a backtick is found), escaped, capped.
func (rd renderer) oneLineNoCode(s string, max int) string {
	return clip(rd.clean(s, func(s string) string { return noBackticks(oneLine(s)) }), max)
}

// streakLine says how the failure fits the package's recent runs: "2nd
// failure in a row; last success 2026-11-30 02:14 UTC, job 987". It is ""
// for a failure the records show no failure before.
func streakLine(s Streak) string {
	if s.Failures < 2 {
		return ""
	}
	line := ordinal(s.Failures) + " failure in a row"
	if s.LastSuccess != 0 {
		line += fmt.Sprintf("; last success %s, job %d", s.LastSuccessAt.UTC().Format("2006-01-02 15:04 UTC"), s.LastSuccess)
	} else {
		line += "; no success in my records"
	}
	return line
}

// ordinal is 1st, 2nd, 3rd, 4th, 11th, 21st…
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// LogMessage renders a job's log for its thread (Show log): the end of the
// log, where a failure shows, scrubbed of the job's secret values, as a
// code block within Slack's limits, with a link to the job's page for the
// whole log. The log's own address is an API address (it may even be a
// signed one): it is never posted.
func LogMessage(r job.Record, body string) Message {
	rd := newRenderer(r.Variables, r.DynamicVariables, r.SecretNames)
	text := strings.TrimSpace(rd.clean(body, func(s string) string { return noBackticks(lines(s)) }))
	title := fmt.Sprintf("Log of job %d", r.JobID)
	cut := false
	if ls := strings.Split(text, "\n"); len(ls) > logTailLines {
		text, cut = strings.Join(ls[len(ls)-logTailLines:], "\n"), true
	}
	text = Escape(text)
	if textLen(text) > maxLogText {
		text, cut = tail(text, maxLogText), true
	}
	heading := "*" + title + "*"
	if cut {
		heading += " (its end)"
	}
	if link := Link(r.HTMLURL, "the whole log"); link != "" {
		heading += " · " + link
	}
	blocks := []slack.Block{section(blockLog, heading)}
	if text == "" {
		blocks = append(blocks, section(blockDetail, "_Xplenty's log of this job is empty._"))
	} else {
		blocks = append(blocks, section(blockDetail, "```\n"+text+"\n```"))
	}
	return message(title+".", blocks)
}

// tail keeps the end of escaped text s within max UTF-16 code units, from
// a line start when one is near, never from inside an entity.
func tail(s string, max int) string {
	rs := []rune(s)
	n, i := 0, len(rs)
	for i > 0 {
		w := textLen(string(rs[i-1]))
		if n+w > max-1 {
			break
		}
		n += w
		i--
	}
	out := string(rs[i:])
	if j := strings.IndexByte(out, '\n'); j >= 0 && j < len(out)/4 {
		out = out[j+1:]
	} else if semi, amp := strings.IndexByte(out, ';'), strings.IndexByte(out, '&'); semi >= 0 && semi < 6 && (amp < 0 || amp > semi) {
		out = out[semi+1:] // the cut fell inside &amp; &lt; or &gt;
	}
	return "…" + out
}
