package render

import (
	"fmt"
	"time"

	"github.com/runjob/runjob/notifier/job"
)

// LostNote is posted in the thread of a job the watcher gave up on because
// Xplenty no longer knows it (job.StatusLost).
func LostNote(r job.Record, m Mentions) Message {
	return Message{Text: fmt.Sprintf("%sJob %d: lost – Xplenty no longer knows this job (was it deleted?), so I stopped following it.", m.notePing(r), r.JobID)}
}

// UnreadableNote is posted in the thread of a job given up because it
// could not be read (job.StatusUnreadable): failures is how many reads
// failed in a row, reason what the last one was (raw, escaped here).
func UnreadableNote(r job.Record, failures int, reason string, m Mentions) Message {
	why := ""
	if reason != "" {
		why = " (" + Escape(oneLine(reason)) + ")"
	}
	page := ""
	if link := Link(r.HTMLURL, "its Xplenty page"); link != "" {
		page = " Check it on " + link + "."
	}
	return Message{Text: fmt.Sprintf("%sJob %d: unreadable – I could not read this job from Xplenty %d times in a row%s, so I stopped following it.%s",
		m.notePing(r), r.JobID, failures, why, page)}
}

// notePing starts a note about a job (given up, or taking long) with a
// mention of whoever started it, or with nothing when the requester is not a
// Slack user id or m is Quiet.
func (m Mentions) notePing(r job.Record) string {
	if m == Ping && slackUserID.MatchString(r.Requester) {
		return "<@" + r.Requester + "> "
	}
	return ""
}

// SlowNote is posted in the thread of a job still running past its
// threshold (job.StatusSlow): elapsed is how long it had been running,
// usual the median runtime of its package on its cluster (0: unknown).
func SlowNote(r job.Record, elapsed, usual time.Duration, m Mentions) Message {
	text := fmt.Sprintf("%s🐢 Job %d is still running after %s", m.notePing(r), r.JobID, roughDuration(elapsed))
	if r.MaxRuntime > 0 {
		text += fmt.Sprintf(", past the %s its preset allows", roughDuration(r.MaxRuntime))
	}
	if usual > 0 {
		text += fmt.Sprintf("; runs of %s usually take %s", runsOf(r), roughDuration(usual))
	}
	return Message{Text: text + ". I'll keep following it."}
}

// QueuedNote is posted in the thread of a job queued too long, waiting for
// its cluster's resources (job.StatusQueuedLong).
func QueuedNote(r job.Record, elapsed time.Duration, m Mentions) Message {
	return Message{Text: fmt.Sprintf("%s🕒 Job %d has been queued for %s, waiting for resources on %s. I'll keep following it.",
		m.notePing(r), r.JobID, roughDuration(elapsed), runRenderer(r.Run).clusterLabel(r.Run, "cluster "))}
}

// StoppingNote is posted in the thread of a job waiting to stop too long
// (job.StatusStoppingLong).
func StoppingNote(r job.Record, elapsed time.Duration, m Mentions) Message {
	return Message{Text: fmt.Sprintf("%s🛑 Job %d has been waiting to stop (pending stoppage) for %s; Xplenty has not stopped it yet. I'll keep following it.",
		m.notePing(r), r.JobID, roughDuration(elapsed))}
}

// runsOf names what a job runs, for "runs of … usually take": its preset,
// or its package on its cluster (see Target).
func runsOf(r job.Record) string {
	if r.Preset != "" {
		return Escape(oneLine(r.Preset))
	}
	return Target(r.Run)
}

// roughDuration writes a duration as people say it: "45 s", "14 min",
// "2 h 05 min".
func roughDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d s", int64(max(d, 0).Round(time.Second)/time.Second))
	}
	d = d.Round(time.Minute)
	if d < time.Hour {
		return fmt.Sprintf("%d min", int64(d/time.Minute))
	}
	return fmt.Sprintf("%d h %02d min", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
}
