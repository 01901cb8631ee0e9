package render

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/xplenty"
)

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

// IsSecret reports whether the request listed the variable name as secret
// (names compared case-insensitively, surrounding spaces ignored). The bot
// decides which names are secret (one rule: SECRET_PATTERN and the
// policy's lists) and records them in SecretNames; the renderer and the
// store's sealing never second-guess it.
func IsSecret(name string, listed []string) bool {
	for _, l := range listed {
		if strings.EqualFold(strings.TrimSpace(l), strings.TrimSpace(name)) {
			return true
		}
	}
	return false
}

// clean readies raw untrusted text for clip: it scrubs secrets, applies
// shape (which removes or replaces characters, see oneLine and lines) and
// scrubs again, so that neither a secret holding a character shape changes
// nor one that a removed character split gets through. The result is still
// raw: clip escapes it.
func (rd renderer) clean(s string, shape func(string) string) string {
	return rd.scrubber.clean(s, shape)
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

// fields are the facts of a run request, shown as a two-column grid: the
// package and the cluster by name and id ("orders_daily (434)", the package
// linked to its page), or by id alone when the name is unknown.
func (rd renderer) fields(r commands.Run, requester string) []*slack.TextBlockObject {
	fs := []*slack.TextBlockObject{
		mrkdwn("*Package*\n" + rd.packageLabel(r, true, "")),
		mrkdwn("*Cluster*\n" + rd.clusterLabel(r, "")),
	}
	if r.Preset != "" {
		fs = append(fs, mrkdwn("*Preset*\n"+rd.code(r.Preset, maxShortText)))
	}
	fs = append(fs, mrkdwn("*Requested by*\n"+mention(requester)))
	if r.RerunOf != 0 {
		fs = append(fs, mrkdwn(fmt.Sprintf("*Re-run of*\njob %d", r.RerunOf)))
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
		if !IsSecret(name, secretNames) {
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
