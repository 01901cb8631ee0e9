package render

import (
	"fmt"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/xplenty"
)

// StartingCard renders the card posted while the run request is on its way
// to Xplenty. It has no buttons: there is no job to stop or re-run yet.
func StartingCard(s Starting) Message {
	rd := runRenderer(s.Run)
	line := fmt.Sprintf("%s *Starting %s…*", StatusEmoji(xplenty.StatusIdle), rd.target(s.Run, true, "package"))
	fallback := rd.target(s.Run, false, "Package") + ": starting…"
	return startingMessage(s, line, fallback, nil)
}

// RefusedCard renders the card for a run request Xplenty refused, with
// Xplenty's reason.
//
// reason is raw, untrusted text: Xplenty's message as it came, not escaped
// for Slack (escaping it first would show &amp; for &, and would hide from
// the scrubbing a secret value holding &, < or >). RefusedCard scrubs the
// values of s's secret variables from it, removes control characters and
// bidi overrides, and escapes it once.
func RefusedCard(s Starting, reason string) Message {
	rd := runRenderer(s.Run)
	line := "🚫 *Xplenty refused to run " + rd.target(s.Run, true, "package") + "*"
	fallback := rd.target(s.Run, false, "Package") + ": refused"
	if first := rd.firstLine(reason); first != "" {
		fallback += " – " + first
	}
	return startingMessage(s, line, fallback, rd.errorText(reason, "Xplenty gave no reason."))
}

// UnknownOutcomeCard renders the card for a run request whose answer was
// lost: the job may have started, and retrying blindly could start it twice.
func UnknownOutcomeCard(s Starting, jobsPageURL string) Message {
	rd := runRenderer(s.Run)
	page := "the Xplenty jobs page"
	if target, ok := linkTarget(jobsPageURL); ok {
		page = "<" + target + "|the Xplenty jobs page>"
	}
	line := fmt.Sprintf("⚠️ *%s: outcome unknown*\nThe job may have started – check %s before running it again.",
		rd.target(s.Run, true, "Package"), page)
	fallback := rd.target(s.Run, false, "Package") + ": unknown – the job may have started; check the Xplenty jobs page before running it again"
	return startingMessage(s, line, fallback, nil)
}

// startingMessage lays out the cards that have no job id yet.
func startingMessage(s Starting, line, fallback string, detail slack.Block) Message {
	rd := runRenderer(s.Run)
	blocks := []slack.Block{
		section(blockSummary, line, rd.fields(s.Run, s.Requester)...),
	}
	blocks = appendIf(blocks, detail)
	blocks = appendIf(blocks, rd.variables(blockVariables, "Variables", s.Variables, s.SecretNames))
	blocks = appendIf(blocks, rd.variables(blockDynamic, "Dynamic variables", s.DynamicVariables, s.SecretNames))
	return message(fallback, blocks)
}
