package notifier

import (
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/xplenty"
)

// This file turns a job into what the bot says about it in Slack. Every
// function is pure: the same record always gives the same message, so a card
// can be re-rendered from Redis on every edit and golden files pin the output.
//
// Two rules hold everywhere below:
//   - text from users or Xplenty goes through clip (Escape, then a length cap
//     that never cuts an entity in half) or code before it reaches Slack, and
//     every mrkdwn object is verbatim, so Slack does not auto-link or
//     auto-mention anything we did not write ourselves;
//   - values of secret variables are replaced by Mask, and also scrubbed from
//     Xplenty's free text (errors, output names), which may echo them.
//
// Untrusted text arrives raw (never escaped by the caller) and is treated in
// one order, by renderer.clean and then clip: secret values are replaced,
// control characters and bidi overrides are removed or turned into spaces
// (see unsafeRune), secret values are replaced again (in case a removed
// character split one), and only then is the text escaped, once. Scrubbing
// after escaping would miss a secret holding &, < or >.

// Message is one Slack message: its plain-text fallback and its Block Kit blocks.
type Message struct {
	// Text is the `text` fallback used by notifications, screen readers and
	// search. It always contains the job id (when there is a job) and the
	// status word, and only escaped, secret-free untrusted text.
	Text   string
	Blocks []slack.Block
}

// Action ids of the card's buttons (a contract with the bot, see design.md).
// The button's value is the Xplenty job id in decimal.
const (
	ActionRerun = "runjob_rerun"
	ActionStop  = "runjob_stop"
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
// answered it: no job id yet.
type Starting struct {
	Requester        string // Slack user id
	ClusterID        int64
	PackageID        int64
	Preset           string // preset name, when started from one
	Variables        map[string]string
	DynamicVariables map[string]string
	SecretNames      []string // variable names whose values are never shown
	RerunOf          int64    // the job this request re-runs, 0 when none
}

// Card renders the job card from the record. The card is edited in place as
// the job moves, so it is rendered from scratch every time.
func Card(r Record) Message {
	rd := newRenderer(r.Variables, r.DynamicVariables, r.SecretNames)
	emoji, word := statusLabel(r)
	stopping := isStopping(r)

	line := fmt.Sprintf("%s *Job %d* · %s", emoji, r.JobID, word)
	fallback := fmt.Sprintf("Job %d (package %d on cluster %d): %s", r.JobID, r.PackageID, r.ClusterID, word)
	switch {
	case stopping:
		if r.StopRequestedBy != "" {
			line += " (requested by " + mention(r.StopRequestedBy) + ")"
		}
	case r.Status == xplenty.StatusRunning:
		line += " `" + ProgressBar(r.Progress) + "`"
		fallback += fmt.Sprintf(" %d%%", percent(r.Progress))
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
		section(blockSummary, line, rd.fields(r.PackageID, r.ClusterID, r.Preset, r.Requester, r.RerunOf)...),
	}
	blocks = appendIf(blocks, rd.variables(blockVariables, "Variables", r.Variables, r.SecretNames))
	blocks = appendIf(blocks, rd.variables(blockDynamic, "Dynamic variables", r.DynamicVariables, r.SecretNames))
	blocks = appendIf(blocks, links(r.HTMLURL))

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
	buttons = append(buttons, button(ActionRerun, value, "Re-run"))
	blocks = append(blocks, slack.NewActionBlock(blockActions, buttons...))

	return message(fallback, blocks)
}

// StartingCard renders the card posted while the run request is on its way
// to Xplenty. It has no buttons: there is no job to stop or re-run yet.
func StartingCard(s Starting) Message {
	line := fmt.Sprintf("%s *Starting package %d on cluster %d…*", StatusEmoji(xplenty.StatusIdle), s.PackageID, s.ClusterID)
	fallback := fmt.Sprintf("Package %d on cluster %d: starting…", s.PackageID, s.ClusterID)
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
	rd := newRenderer(s.Variables, s.DynamicVariables, s.SecretNames)
	line := fmt.Sprintf("🚫 *Xplenty refused to run package %d on cluster %d*", s.PackageID, s.ClusterID)
	fallback := fmt.Sprintf("Package %d on cluster %d: refused", s.PackageID, s.ClusterID)
	if first := rd.firstLine(reason); first != "" {
		fallback += " – " + first
	}
	return startingMessage(s, line, fallback, rd.errorText(reason, "Xplenty gave no reason."))
}

// UnknownOutcomeCard renders the card for a run request whose answer was
// lost: the job may have started, and retrying blindly could start it twice.
func UnknownOutcomeCard(s Starting, jobsPageURL string) Message {
	page := "the Xplenty jobs page"
	if target, ok := linkTarget(jobsPageURL); ok {
		page = "<" + target + "|the Xplenty jobs page>"
	}
	line := fmt.Sprintf("⚠️ *Package %d on cluster %d: outcome unknown*\nThe job may have started – check %s before running it again.",
		s.PackageID, s.ClusterID, page)
	fallback := fmt.Sprintf("Package %d on cluster %d: unknown – the job may have started; check the Xplenty jobs page before running it again",
		s.PackageID, s.ClusterID)
	return startingMessage(s, line, fallback, nil)
}

// startingMessage lays out the cards that have no job id yet.
func startingMessage(s Starting, line, fallback string, detail slack.Block) Message {
	rd := newRenderer(s.Variables, s.DynamicVariables, s.SecretNames)
	blocks := []slack.Block{
		section(blockSummary, line, rd.fields(s.PackageID, s.ClusterID, s.Preset, s.Requester, s.RerunOf)...),
	}
	blocks = appendIf(blocks, detail)
	blocks = appendIf(blocks, rd.variables(blockVariables, "Variables", s.Variables, s.SecretNames))
	blocks = appendIf(blocks, rd.variables(blockDynamic, "Dynamic variables", s.DynamicVariables, s.SecretNames))
	return message(fallback, blocks)
}

// Reply renders the one thread reply posted when a job ends. It mentions
// the requester, so they are notified.
func Reply(r Record) Message {
	rd := newRenderer(r.Variables, r.DynamicVariables, r.SecretNames)
	emoji, word := statusLabel(r)

	sentence := fmt.Sprintf("Job %d (package %d on cluster %d)", r.JobID, r.PackageID, r.ClusterID)
	if r.Requester != "" {
		sentence = mention(r.Requester) + " " + sentence
	}
	var detail slack.Block
	switch r.Status {
	case xplenty.StatusCompleted:
		sentence += " completed"
		if r.Runtime > 0 {
			sentence += " in " + formatDuration(r.Runtime)
		}
		detail = rd.outputs(r.Outputs)
	case xplenty.StatusFailed:
		sentence += " failed"
		if r.Runtime > 0 {
			sentence += " after " + formatDuration(r.Runtime)
		}
		detail = rd.errorText(r.Errors, "Xplenty gave no error text.")
	case xplenty.StatusStopped:
		sentence += " was stopped " + stoppedBy(r)
	default: // not an end; rendered anyway rather than failing
		sentence += " is " + word
	}

	fallback := sentence
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
	blocks = appendIf(blocks, detail)
	blocks = appendIf(blocks, links(r.HTMLURL))
	return message(fallback, blocks)
}

// RerunNote renders the note posted in the old card's thread when someone
// re-runs the job, pointing at the new job.
func RerunNote(old Record, newJobID int64, by string) Message {
	_, word := statusLabel(old)
	who := "Someone"
	if by != "" {
		who = mention(by)
	}
	line := fmt.Sprintf("🔁 %s re-ran this job as job %d.", who, newJobID)
	fallback := fmt.Sprintf("%s re-ran job %d (%s) as job %d", who, old.JobID, word, newJobID)
	return message(fallback, []slack.Block{section(blockSummary, line)})
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes untrusted text safe to put in a Slack message: &, < and > are
// the only characters Slack's formatting gives meaning to
// (https://docs.slack.dev/messaging/formatting-message-text#escaping), so
// once they are escaped the text cannot mention anyone, ping a channel or
// disguise a link.
func Escape(s string) string { return slackEscaper.Replace(s) }

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
func isStopping(r Record) bool {
	if r.Terminal() {
		return false
	}
	return r.StopRequestedBy != "" || r.Status == xplenty.StatusPendingStoppage || r.Status == xplenty.StatusStopping
}

// statusLabel returns the emoji and the status word shown for a record.
func statusLabel(r Record) (emoji, word string) {
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
func stoppedBy(r Record) string {
	who := r.StoppedBy
	if who == "" {
		who = r.StopRequestedBy
	}
	if who == "" {
		return "in Xplenty"
	}
	return "by " + mention(who)
}

var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]+$`)

// mention turns a Slack user id into a mention. Anything that does not look
// like a user id is shown as escaped text, so it cannot become a mention of
// something else (<!channel>).
func mention(id string) string {
	if slackUserID.MatchString(id) {
		return "<@" + id + ">"
	}
	if id == "" {
		return "unknown"
	}
	return clip(oneLine(id), maxShortText)
}

// renderer carries what every piece of untrusted text is checked against:
// the values of the secret variables of the job at hand.
type renderer struct {
	scrubber Scrubber
}

func newRenderer(vars, dynamic map[string]string, secretNames []string) renderer {
	return renderer{scrubber: NewScrubber(secretNames, vars, dynamic)}
}

// isSecret reports whether the request listed the variable name as secret.
// The bot decides which names are secret (one rule: SECRET_PATTERN and the
// policy's lists) and records them in SecretNames; the renderer never
// second-guesses it.
func isSecret(name string, listed []string) bool {
	for _, l := range listed {
		if strings.EqualFold(strings.TrimSpace(l), strings.TrimSpace(name)) {
			return true
		}
	}
	return false
}

// redact replaces every secret value in s with Mask. s must be raw text:
// an escaped secret (p&amp;ss) would not be found.
func (rd renderer) redact(s string) string { return rd.scrubber.Scrub(s) }

// clean readies raw untrusted text for clip: it scrubs secrets, applies
// shape (which removes or replaces characters, see oneLine and lines) and
// scrubs again, so that neither a secret holding a character shape changes
// nor one that a removed character split gets through. The result is still
// raw: clip escapes it.
func (rd renderer) clean(s string, shape func(string) string) string {
	return rd.redact(shape(rd.redact(s)))
}

// text renders untrusted text on one line: scrubbed, escaped, capped.
func (rd renderer) text(s string, max int) string {
	return clip(rd.clean(s, oneLine), max)
}

// code renders untrusted text as inline code. Backticks are swapped for a
// look-alike so the text cannot close the code span.
func (rd renderer) code(s string, max int) string {
	if s == "" {
		return "_empty_"
	}
	return "`" + clip(rd.clean(s, func(s string) string { return noBackticks(oneLine(s)) }), max) + "`"
}

// firstLine is the first non-blank line of Xplenty's text, for a fallback,
// without backticks that would format it. The whole text is scrubbed before
// it is split, so a secret spanning lines is found.
func (rd renderer) firstLine(s string) string {
	for line := range strings.Lines(rd.clean(s, lines)) {
		if line = strings.TrimSpace(line); line != "" {
			return rd.text(noBackticks(line), maxFallbackErr)
		}
	}
	return ""
}

// fields are the facts of a run request, shown as a two-column grid.
func (rd renderer) fields(packageID, clusterID int64, preset, requester string, rerunOf int64) []*slack.TextBlockObject {
	fs := []*slack.TextBlockObject{
		mrkdwn("*Package*\n" + strconv.FormatInt(packageID, 10)),
		mrkdwn("*Cluster*\n" + strconv.FormatInt(clusterID, 10)),
	}
	if preset != "" {
		fs = append(fs, mrkdwn("*Preset*\n"+rd.code(preset, maxShortText)))
	}
	fs = append(fs, mrkdwn("*Requested by*\n"+mention(requester)))
	if rerunOf != 0 {
		fs = append(fs, mrkdwn(fmt.Sprintf("*Re-run of*\njob %d", rerunOf)))
	}
	return fs
}

// variables renders one kind of variables, sorted by name, secrets masked;
// nil when there are none.
func (rd renderer) variables(blockID, title string, vars map[string]string, secretNames []string) slack.Block {
	if len(vars) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(vars))
	var b strings.Builder
	b.WriteString("*" + title + "*")
	for i, name := range names {
		if i == maxVarsShown {
			fmt.Fprintf(&b, "\n_and %d more_", len(names)-i)
			break
		}
		value := Mask
		if !isSecret(name, secretNames) {
			value = rd.code(vars[name], maxVarValue)
		}
		b.WriteString("\n" + rd.code(name, maxVarName) + " = " + value)
	}
	return section(blockID, b.String())
}

// outputs lists a completed job's outputs with their record counts; nil when
// Xplenty sent none.
func (rd renderer) outputs(outs []xplenty.Output) slack.Block {
	if len(outs) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("*Outputs*")
	for i, o := range outs {
		if i == maxOutputsShown {
			fmt.Fprintf(&b, "\n_and %d more_", len(outs)-i)
			break
		}
		name := o.Name
		if name == "" {
			name = o.ComponentName
		}
		shown := rd.text(name, maxOutputName)
		if name == "" {
			shown = fmt.Sprintf("output %d", o.ID)
		}
		b.WriteString("\n• " + shown + ": " + formatRecords(o.RecordsCount))
	}
	return section(blockDetail, b.String())
}

// errorText shows Xplenty's raw error text in a code block: it keeps the
// text's lines and tabs and turns off formatting. Backticks are swapped so
// the text cannot close the block; other control characters and bidi
// overrides are removed (see lines).
func (rd renderer) errorText(s, none string) slack.Block {
	s = strings.TrimSpace(rd.clean(s, func(s string) string { return noBackticks(lines(s)) }))
	if s == "" {
		return section(blockDetail, "_"+none+"_")
	}
	const fence = "```"
	return section(blockDetail, fence+"\n"+clip(s, maxErrorText)+"\n"+fence)
}

// links is the context line with the job's page; nil when the job has no
// usable http(s) URL.
func links(htmlURL string) slack.Block {
	target, ok := linkTarget(htmlURL)
	if !ok {
		return nil
	}
	return slack.NewContextBlock(blockLinks, mrkdwn("<"+target+"|Open in Xplenty>"))
}

// linkTarget makes a URL fit to be the target of a Slack link <url|text>:
// only http(s) with a host, without credentials, with |, <, >, spaces,
// control characters and every non-ASCII byte percent-encoded (url.String
// leaves a query as it came, and | or > there would end the target), and &
// escaped.
func linkTarget(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	u.User = nil
	s := percentEncodeUnsafe(u.String())
	if len(s) > maxLinkURL {
		return "", false
	}
	return Escape(s), true
}

// formatDuration writes a runtime for people: "42s", "7m 2s", "1h 0m 5s".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = 0
	}
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %dm %ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// formatCount writes n with thousands separators: 10,415,234.
func formatCount(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if digits[0] == '-' {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// formatRecords writes a record count: "1 record", "10,415,234 records".
func formatRecords(n int64) string {
	if n == 1 {
		return "1 record"
	}
	return formatCount(n) + " records"
}

// clip escapes untrusted text and caps it at max UTF-16 code units of
// escaped text (see textLen), ending with "…" when cut. It cuts between
// characters of the original, so an entity such as &amp; is never split.
func clip(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if e := Escape(s); textLen(e) <= max {
		return e
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		piece := Escape(string(r))
		k := textLen(piece)
		if n+k > max-1 {
			break
		}
		b.WriteString(piece)
		n += k
	}
	b.WriteString("…")
	return b.String()
}

// truncate caps text that is already safe at max UTF-16 code units (see
// textLen), ending with "…" when cut. It guards Slack's limits; the caps on
// each piece keep it from ever cutting.
func truncate(s string, max int) string {
	if textLen(s) <= max {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		k := utf16.RuneLen(r)
		if k < 0 || n+k > max-1 {
			break
		}
		b.WriteRune(r)
		n += k
	}
	return b.String() + "…"
}

// unsafeRune reports whether r, in untrusted text, would act on how the
// text is shown rather than be part of it: a C0 control character (line
// breaks and tabs included), DEL, a C1 control character (U+0080–U+009F),
// or a bidi embedding, override or isolate (U+202A–U+202E, U+2066–U+2069),
// which can show text in another order than it is read ("Trojan Source").
// Slack ignores some of them; a terminal, which shows the same messages in
// the shell mode, obeys them (ESC starts its escape sequences).
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || isBidiControl(r)
}

// isBidiControl reports whether r is a bidi embedding, override or isolate
// character, or the pop that ends one.
func isBidiControl(r rune) bool {
	return '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069'
}

// oneLine keeps untrusted text on its line: line breaks, tabs and other
// control characters become spaces, bidi overrides are removed.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case isBidiControl(r):
			return -1
		case unsafeRune(r):
			return ' '
		}
		return r
	}, s)
}

// lines is oneLine for text whose lines are kept: \r\n and a lone \r
// become \n, \n and \t stay, every other control character and bidi
// override is removed.
func lines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case unsafeRune(r):
			return -1
		}
		return r
	}, s)
}

// noBackticks swaps ` for ˋ (U+02CB), which looks the same but does not
// open or close code in mrkdwn.
func noBackticks(s string) string { return strings.ReplaceAll(s, "`", "ˋ") }

// mrkdwn is a mrkdwn text object. Verbatim stops Slack from linking URLs and
// channel names or parsing mentions in the text on its own; only the
// <...> we write ourselves are links or mentions.
func mrkdwn(s string) *slack.TextBlockObject {
	return &slack.TextBlockObject{Type: slack.MarkdownType, Text: s, Verbatim: true}
}

// plain is a plain_text object for our own words (buttons, dialogs). No
// untrusted text goes into one.
func plain(s string) *slack.TextBlockObject {
	return &slack.TextBlockObject{Type: slack.PlainTextType, Text: s}
}

// button is a button with our own label.
func button(actionID, value, label string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, value, plain(truncate(label, maxButtonText)))
}

// section is a section block within Slack's limits.
func section(blockID, text string, fields ...*slack.TextBlockObject) *slack.SectionBlock {
	if len(fields) > maxFields {
		fields = fields[:maxFields]
	}
	for _, f := range fields {
		f.Text = truncate(f.Text, maxFieldText)
	}
	if len(fields) == 0 {
		fields = nil
	}
	return slack.NewSectionBlock(mrkdwn(truncate(text, maxSectionText)), fields, nil, slack.SectionBlockOptionBlockID(blockID))
}

// appendIf appends b unless it is nil.
func appendIf(blocks []slack.Block, b slack.Block) []slack.Block {
	if b == nil {
		return blocks
	}
	return append(blocks, b)
}

// message caps the fallback and the number of blocks.
func message(fallback string, blocks []slack.Block) Message {
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	return Message{Text: truncate(fallback, maxFallback), Blocks: blocks}
}
