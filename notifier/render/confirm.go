package render

import (
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Action ids of the confirmation asked before a run of a protected cluster
// or package; their value is the confirmation's token.
const (
	ActionConfirm = "runjob_confirm"
	ActionCancel  = "runjob_cancel"
)

const blockConfirm = "runjob_confirm_actions"

// ConfirmPrompt renders the question shown, only to the runner, before a run
// of a protected cluster or package: what would start, why it asks, and the
// buttons to start it or not. reason is raw text, escaped here; when it is
// empty (or blank) the prompt says nothing about why.
func ConfirmPrompt(s Starting, reason, token string, within time.Duration) Message {
	rd := runRenderer(s.Run)
	line := "⚠️ *Confirm the run of " + rd.target(s.Run, true, "package") + "*\n"
	if why := strings.TrimSpace(rd.text(reason, 300)); why != "" {
		line += why + ". "
	}
	line += "Only you can confirm it, within " + formatDuration(within) + "."
	fallback := rd.target(s.Run, false, "Package") + ": confirm to start"
	if first := rd.firstLine(reason); first != "" {
		fallback += " (" + first + ")"
	}
	m := startingMessage(s, line, fallback, nil)
	m.Blocks = append(m.Blocks, slack.NewActionBlock(blockConfirm,
		button(ActionConfirm, token, "Start it").WithStyle(slack.StylePrimary),
		button(ActionCancel, token, "Cancel"),
	))
	return m
}
