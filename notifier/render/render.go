package render

import (
	"github.com/slack-go/slack"

	"github.com/runjob/runjob/commands"
)

// Message is one Slack message: its plain-text fallback and its Block Kit blocks.
type Message struct {
	// Text is the `text` fallback used by notifications, screen readers and
	// search. It always contains the job id (when there is a job) and the
	// status word, and only escaped, secret-free untrusted text.
	Text   string
	Blocks []slack.Block
}

// Action ids of the card's buttons (a contract with the bot, which routes clicks by them).
// The button's value is the Xplenty job id in decimal.
const (
	ActionRerun = "runjob_rerun"
	ActionStop  = "runjob_stop"
	// ActionEdit (Edit & re-run) opens the run form filled in with the
	// job's run; finished cards have it.
	ActionEdit = "runjob_edit"
)

// Mask replaces the value of a secret variable wherever it would be shown.
const Mask = "••••"

// Block ids: stable, so an edited card keeps its layout and the bot can tell
// where a click came from.
const (
	blockSummary   = "runjob_summary"
	blockVariables = "runjob_variables"
	blockDynamic   = "runjob_dynamic_variables"
	blockDetail    = "runjob_detail" // outputs, or Xplenty's error text
	blockLinks     = "runjob_links"
	blockActions   = "runjob_actions"
)

// Slack's limits, from https://docs.slack.dev/reference/block-kit/blocks/section-block,
// .../composition-objects/text-object, .../composition-objects/confirmation-dialog-object,
// .../block-elements/button-element and https://docs.slack.dev/reference/methods/chat.postMessage
// (text). Slack rejects a message that breaks one of its block limits. The
// documentation counts "characters"; Slack counts UTF-16 code units (an
// emoji outside the BMP is two), so every length here is counted that way
// (see textLen): the stricter reading. The limit of a message's top-level
// text is maxMessageText.
const (
	maxSectionText = 3000 // section `text`
	maxFieldText   = 2000 // each of a section's `fields`
	maxFields      = 10   // fields per section
	maxBlocks      = 50   // blocks per message
	maxButtonText  = 75   // button `text`
	maxConfirmText = 300  // confirmation dialog `text`
)

// Our own display limits: enough to recognise a job, short enough to keep a
// card readable and every block far inside Slack's limits. Lengths count
// UTF-16 code units of escaped text, as Slack's limits do.
const (
	maxFallback     = 500  // the `text` fallback; Slack takes far more, notifications show far less
	maxShortText    = 100  // a preset name, an unknown status, a user id that is not one
	maxVarsShown    = 10   // variables per section; the rest are counted
	maxVarName      = 50   // a variable's name
	maxVarValue     = 100  // a variable's value
	maxOutputsShown = 10   // outputs in a completion reply; the rest are counted
	maxOutputName   = 100  // an output's name
	maxErrorText    = 2800 // Xplenty's error text, in a code block inside one section
	maxFallbackErr  = 150  // the first line of an error, repeated in a fallback
	maxLinkURL      = 1000 // a longer URL is dropped rather than cut
	// minSecretLen is the shortest secret value scrubbed from Xplenty's free
	// text; replacing every "a" or "42" would make an error unreadable.
	minSecretLen = 4
)

// Starting is what the bot knows about a run request before Xplenty has
// answered it: who asked, and the run; no job id yet.
type Starting struct {
	Requester string // Slack user id
	commands.Run
}
