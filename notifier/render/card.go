package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/xplenty"
)

// Card renders the job card from the record. The card is edited in place as
// the job moves, so it is rendered from scratch every time.
func Card(r job.Record) Message { return CardWith(r, CardContext{}) }

// CardWith is Card with what the record does not hold: a running job's
// card then says how long runs usually take and about how long is left.
func CardWith(r job.Record, c CardContext) Message {
	rd := newRenderer(r.Variables, r.DynamicVariables, r.SecretNames)
	emoji, word := statusLabel(r)
	stopping := isStopping(r)

	line := fmt.Sprintf("%s *Job %d* · %s", emoji, r.JobID, word)
	fallback := fmt.Sprintf("Job %d (%s): %s", r.JobID, rd.target(r.Run, false, "package"), word)
	switch {
	case stopping:
		if r.StopRequestedBy != "" {
			line += " (requested by " + mention(r.StopRequestedBy) + ")"
		}
	case r.Status == xplenty.StatusRunning:
		line += " `" + ProgressBar(r.Progress) + "`"
		fallback += fmt.Sprintf(" %d%%", percent(r.Progress))
		if est := c.estimate(r); est != "" {
			line += " · " + est
			fallback += ", " + est
		}
	case r.Status == xplenty.StatusCompleted && r.Runtime > 0:
		line += " in " + formatDuration(r.Runtime)
		fallback += " in " + formatDuration(r.Runtime)
	case r.Status == xplenty.StatusFailed:
		if r.Runtime > 0 {
			line += " after " + formatDuration(r.Runtime)
		}
		line += " – details in the thread"
	case r.Status == xplenty.StatusStopped:
		line += " " + stoppedBy(r)
	}

	blocks := []slack.Block{
		section(blockSummary, line, rd.fields(r.Run, r.Requester)...),
	}
	blocks = appendIf(blocks, rd.variables(blockVariables, "Variables", r.Variables, r.SecretNames))
	blocks = appendIf(blocks, rd.variables(blockDynamic, "Dynamic variables", r.DynamicVariables, r.SecretNames))
	blocks = appendIf(blocks, links(r.HTMLURL))

	buttons := jobButtons(r, stopping)
	blocks = append(blocks, slack.NewActionBlock(blockActions, buttons...))

	return message(fallback, blocks)
}

// jobButtons are the buttons of a job's card (and of its line on the Home
// tab): Stop while it runs, Show log when it failed, Re-run, and Edit &
// re-run once it ended.
func jobButtons(r job.Record, stopping bool) []slack.BlockElement {
	value := strconv.FormatInt(r.JobID, 10)
	var buttons []slack.BlockElement
	if !r.Terminal() && !stopping {
		confirm := slack.NewConfirmationBlockObject(
			plain("Stop this job?"),
			plain(truncate(fmt.Sprintf("Stop job %d (package %d)?", r.JobID, r.PackageID), maxConfirmText)),
			plain("Stop it"),
			plain("Keep running"),
		).WithStyle(slack.StyleDanger)
		buttons = append(buttons, button(ActionStop, value, "Stop").WithStyle(slack.StyleDanger).WithConfirm(confirm))
	}
	if r.Status == xplenty.StatusFailed {
		buttons = append(buttons, button(ActionLog, value, "Show log"))
	}
	buttons = append(buttons, button(ActionRerun, value, "Re-run"))
	if r.Terminal() {
		buttons = append(buttons, button(ActionEdit, value, "Edit & re-run"))
	}
	return buttons
}

// Reply renders the one thread reply posted when a job ends. It mentions
// the requester, so they are notified. A failure shows Xplenty's summary of
// why and what to do, when it gave one.
func Reply(r job.Record) Message { return ReplyWithStreak(r, Streak{}, Ping) }

// ReplyWithStreak is Reply, saying for a failure what the bot's records
// say of the runs of its package before it (the zero Streak says nothing),
// and mentioning people or not as m says.
func ReplyWithStreak(r job.Record, streak Streak, m Mentions) Message {
	rd := newRenderer(r.Variables, r.DynamicVariables, r.SecretNames)
	emoji, word := statusLabel(r)

	var tail string // what became of the job
	var detail, why, streakBlock slack.Block
	switch r.Status {
	case xplenty.StatusCompleted:
		tail = " completed"
		if r.Runtime > 0 {
			tail += " in " + formatDuration(r.Runtime)
		}
		detail = rd.outputs(r.Outputs)
	case xplenty.StatusFailed:
		tail = " failed"
		if r.Runtime > 0 {
			tail += " after " + formatDuration(r.Runtime)
		}
		detail = rd.errorText(r.Errors, "Xplenty gave no error text.")
		why = rd.why(r)
		if line := streakLine(streak); line != "" {
			streakBlock = slack.NewContextBlock(blockStreak, mrkdwn(line))
		}
	case xplenty.StatusStopped:
		tail = " was stopped " + m.stoppedBy(r)
	default: // not an end; rendered anyway rather than failing
		tail = " is " + word
	}

	// The summary links the package to its page; the fallback names it
	// without a link.
	about := func(linked bool) string {
		s := fmt.Sprintf("Job %d (%s)%s", r.JobID, rd.target(r.Run, linked, "package"), tail)
		if r.Requester != "" && m == Ping {
			s = mention(r.Requester) + " " + s
		}
		return s
	}
	sentence, fallback := about(true), about(false)
	if r.Status == xplenty.StatusFailed {
		if first := rd.firstLine(r.Errors); first != "" {
			fallback += ": " + first
		}
	}
	summary := emoji + " " + sentence
	if !strings.HasSuffix(summary, "…") {
		summary += "."
	}
	blocks := []slack.Block{section(blockSummary, summary)}
	blocks = appendIf(blocks, why)
	blocks = appendIf(blocks, detail)
	blocks = appendIf(blocks, streakBlock)
	blocks = appendIf(blocks, links(r.HTMLURL))
	return message(fallback, blocks)
}

// RerunNote renders the note posted in the old card's thread when someone
// re-runs the job, pointing at the new job.
func RerunNote(old job.Record, newJobID int64, by string) Message {
	_, word := statusLabel(old)
	who := "Someone"
	if by != "" {
		who = mention(by)
	}
	line := fmt.Sprintf("🔁 %s re-ran this job as job %d.", who, newJobID)
	fallback := fmt.Sprintf("%s re-ran job %d (%s) as job %d", who, old.JobID, word, newJobID)
	return message(fallback, []slack.Block{section(blockSummary, line)})
}

// StatusEmoji returns the emoji shown next to a job status; ❔ for a status
// this code does not know.
func StatusEmoji(s xplenty.Status) string {
	switch s {
	case "", xplenty.StatusIdle, xplenty.StatusPending:
		return "⏳"
	case xplenty.StatusQueued:
		return "🕒"
	case xplenty.StatusRunning:
		return "🏃"
	case xplenty.StatusPendingStoppage, xplenty.StatusStopping:
		return "🛑"
	case xplenty.StatusCompleted:
		return "✅"
	case xplenty.StatusFailed:
		return "❌"
	case xplenty.StatusStopped:
		return "⏹️"
	}
	return "❔"
}

// progressCells is the width of a progress bar.
const progressCells = 10

// maxRunningPercent is the most a job that has not ended shows: Xplenty
// may report a progress of 1.0 while the job is still finishing (writing
// its outputs), and 100% would read as done.
const maxRunningPercent = 99

// ProgressBar draws the progress p (0.0–1.0, clamped) of a job that has not
// ended as ten cells and a percentage, e.g. "▓▓▓▓▓░░░░░ 50%". It rounds
// down and stops at 99%, so a job never shows 100% before it ends; an ended
// job is shown by its status, not by a bar.
func ProgressBar(p float64) string {
	pct := percent(p)
	filled := pct * progressCells / 100
	return strings.Repeat("▓", filled) + strings.Repeat("░", progressCells-filled) + " " + strconv.Itoa(pct) + "%"
}

// percent is the progress of a job that has not ended as a whole
// percentage, rounded down and clamped to 0..maxRunningPercent.
func percent(p float64) int {
	if math.IsNaN(p) || p < 0 {
		return 0
	}
	// The epsilon keeps 0.29 at 29% although 0.29*100 is 28.999….
	return min(int(math.Floor(min(p, 1)*100+1e-9)), maxRunningPercent)
}

// isStopping reports whether a stop is under way: requested through the bot
// or reported by Xplenty, and the job has not ended yet.
func isStopping(r job.Record) bool {
	if r.Terminal() {
		return false
	}
	return r.StopRequestedBy != "" || r.Status == xplenty.StatusPendingStoppage || r.Status == xplenty.StatusStopping
}

// statusLabel returns the emoji and the status word shown for a record.
func statusLabel(r job.Record) (emoji, word string) {
	switch {
	case isStopping(r):
		return StatusEmoji(xplenty.StatusStopping), "stopping…"
	case r.Status == "":
		return StatusEmoji(xplenty.StatusIdle), string(xplenty.StatusIdle)
	case r.Status.Known():
		return StatusEmoji(r.Status), string(r.Status)
	}
	// An unknown status is shown as it came, but it is Xplenty's text.
	rd := newRenderer(r.Variables, r.DynamicVariables, r.SecretNames)
	return StatusEmoji(r.Status), rd.text(string(r.Status), maxShortText)
}

// stoppedBy says who stopped a job. The record fills StoppedBy from
// StopRequestedBy once Xplenty confirms; before that, the request is the
// best answer there is.
func stoppedBy(r job.Record) string { return Ping.stoppedBy(r) }

// stoppedBy is stoppedBy for a thread message: when it mentions nobody, it
// says only whether someone stopped the job from Slack (the card, edited
// without notifying anyone, names them).
func (m Mentions) stoppedBy(r job.Record) string {
	who := r.StoppedBy
	if who == "" {
		who = r.StopRequestedBy
	}
	switch {
	case who == "":
		return "in Xplenty"
	case m == Quiet:
		return "from Slack"
	}
	return "by " + mention(who)
}
