package render

import (
	"fmt"

	"github.com/runjob/runjob/notifier/job"
)

// LostNote is posted in the thread of a job the watcher gave up on because
// Xplenty no longer knows it (job.StatusLost).
func LostNote(r job.Record) Message {
	return Message{Text: fmt.Sprintf("%sJob %d: lost – Xplenty no longer knows this job (was it deleted?), so I stopped following it.", notePing(r), r.JobID)}
}

// UnreadableNote is posted in the thread of a job given up because it
// could not be read (job.StatusUnreadable): failures is how many reads
// failed in a row, reason what the last one was (raw, escaped here).
func UnreadableNote(r job.Record, failures int, reason string) Message {
	why := ""
	if reason != "" {
		why = " (" + Escape(oneLine(reason)) + ")"
	}
	page := ""
	if link := Link(r.HTMLURL, "its Xplenty page"); link != "" {
		page = " Check it on " + link + "."
	}
	return Message{Text: fmt.Sprintf("%sJob %d: unreadable – I could not read this job from Xplenty %d times in a row%s, so I stopped following it.%s",
		notePing(r), r.JobID, failures, why, page)}
}

// notePing starts a note about a job given up with a mention of whoever
// started it, or with nothing when the requester is not a Slack user id.
func notePing(r job.Record) string {
	if slackUserID.MatchString(r.Requester) {
		return "<@" + r.Requester + "> "
	}
	return ""
}
