package shell

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/runjob/runjob/notifier/render"
)

// This file turns what the bot posts to Slack (a plain-text fallback and
// Block Kit blocks in mrkdwn) into lines for a terminal; the printer prints
// them as they happen. It works on the wire JSON the fake Slack stored, not on the
// notifier's Go values, so the shell shows exactly what Slack received.

// renderer renders messages for the terminal. names gives the display name
// of a user or channel id (without @ or #).
type renderer struct {
	userName    func(id string) string
	channelName func(id string) string
}

// rendered is one version of a message as the terminal shows it.
type rendered struct {
	lines   []string // the body; lines[0] is the summary (status line)
	actions []string // the buttons, as shell commands (":stop 1001") or labels
	jobID   int64    // the job the message is about, 0 when unknown
}

// status is the one-line summary shown for an edit.
func (r rendered) status() string {
	if len(r.lines) == 0 {
		return ""
	}
	return r.lines[0]
}

// signature tells whether two versions look the same on a terminal.
func (r rendered) signature() string {
	return r.status() + "\x00" + strings.Join(r.actions, "\x00")
}

// wire forms of Block Kit, only what the terminal shows.
type (
	kbText struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	kbBlock struct {
		Type     string            `json:"type"`
		Text     *kbText           `json:"text"`
		Fields   []kbText          `json:"fields"`
		Elements []json.RawMessage `json:"elements"`
		AltText  string            `json:"alt_text"`
		// Accessory is a section's side element (a button, an image).
		Accessory json.RawMessage `json:"accessory"`
	}
	kbElement struct {
		Type     string     `json:"type"`
		Text     any        `json:"text"` // a text object, or a string in context elements
		ActionID string     `json:"action_id"`
		Value    string     `json:"value"`
		URL      string     `json:"url"`
		AltText  string     `json:"alt_text"`
		Confirm  *kbConfirm `json:"confirm"`
	}
	kbConfirm struct {
		Text kbText `json:"text"`
	}
)

// jobInText finds the job id in a fallback text ("Job 1001 (package 434 …").
var jobInText = regexp.MustCompile(`\bJob (\d+)\b`)

// message renders one version of a message: its blocks when it has any,
// else its text fallback.
func (st renderer) message(text string, blocks json.RawMessage) rendered {
	var r rendered
	var bs []kbBlock
	if len(blocks) > 0 && string(blocks) != "null" {
		if err := json.Unmarshal(blocks, &bs); err != nil {
			bs = nil
		}
	}
	for _, b := range bs {
		st.block(b, &r)
	}
	if len(r.lines) == 0 {
		r.lines = splitLines(st.mrkdwn(text, true))
	}
	if r.jobID == 0 {
		if m := jobInText.FindStringSubmatch(text); m != nil {
			r.jobID, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	if len(r.lines) == 0 {
		r.lines = []string{"(empty message)"}
	}
	return r
}

func (st renderer) block(b kbBlock, r *rendered) {
	switch b.Type {
	case "section":
		if b.Text != nil {
			r.lines = append(r.lines, st.section(*b.Text)...)
		}
		if len(b.Fields) > 0 {
			var fs []string
			for _, f := range b.Fields {
				// "*Package*\n434" reads as "Package: 434".
				if s := strings.Join(splitLines(st.textObject(f)), ": "); s != "" {
					fs = append(fs, s)
				}
			}
			r.lines = append(r.lines, strings.Join(fs, " · "))
		}
		if len(b.Accessory) > 0 {
			st.element(b.Accessory, r)
		}
	case "header":
		if b.Text != nil {
			r.lines = append(r.lines, strings.ToUpper(st.textObject(*b.Text)))
		}
	case "divider":
		r.lines = append(r.lines, "────────")
	case "context":
		var parts []string
		for _, raw := range b.Elements {
			var e kbElement
			if json.Unmarshal(raw, &e) != nil {
				continue
			}
			switch {
			case e.Type == "image":
				if e.AltText != "" {
					parts = append(parts, "["+e.AltText+"]")
				}
			default:
				var t kbText
				if json.Unmarshal(raw, &t) == nil && t.Text != "" {
					parts = append(parts, strings.Join(splitLines(st.textObject(t)), " "))
				}
			}
		}
		if len(parts) > 0 {
			r.lines = append(r.lines, strings.Join(parts, " · "))
		}
	case "actions":
		for _, raw := range b.Elements {
			st.element(raw, r)
		}
	case "image":
		r.lines = append(r.lines, "[image: "+b.AltText+"]")
	default:
		if b.Text != nil {
			r.lines = append(r.lines, splitLines(st.textObject(*b.Text))...)
		}
	}
}

// element renders an interactive element: our buttons become the shell
// commands that click them; others show their label.
func (st renderer) element(raw json.RawMessage, r *rendered) {
	var e kbElement
	if json.Unmarshal(raw, &e) != nil {
		return
	}
	label := ""
	if m, ok := e.Text.(map[string]any); ok {
		label, _ = m["text"].(string)
		label = unescape(label)
	}
	switch {
	case shellVerbs[e.ActionID] != "":
		r.actions = append(r.actions, shellVerbs[e.ActionID]+" "+e.Value)
		if id, err := strconv.ParseInt(e.Value, 10, 64); err == nil && r.jobID == 0 {
			r.jobID = id
		}
	case e.ActionID == render.ActionConfirm:
		r.actions = append(r.actions, ":confirm")
	case e.ActionID == render.ActionCancel:
		r.actions = append(r.actions, ":cancel")
	case e.URL != "":
		r.actions = append(r.actions, label+" ("+e.URL+")")
	case label != "":
		r.actions = append(r.actions, "["+label+"]")
	}
}

// section renders a section's text. A bold title followed by short lines
// ("*Variables*\n`DATE` = `2026-11-01`") is written on one line,
// "Variables: DATE = 2026-11-01 · …"; code blocks keep their lines.
func (st renderer) section(t kbText) []string {
	lines := splitLines(st.textObject(t))
	raw := strings.TrimSpace(t.Text)
	first, _, _ := strings.Cut(raw, "\n")
	if t.Type != "mrkdwn" || len(lines) < 2 || strings.Contains(raw, "```") || !boldTitle.MatchString(first) {
		return lines
	}
	rest := make([]string, 0, len(lines)-1)
	for _, l := range lines[1:] {
		rest = append(rest, strings.TrimPrefix(strings.TrimSpace(l), "• "))
	}
	return []string{lines[0] + ": " + strings.Join(rest, " · ")}
}

var boldTitle = regexp.MustCompile(`^\*[^*\n]+\*$`)

// textObject renders a text object: mrkdwn is converted; plain text is
// taken as is.
func (st renderer) textObject(t kbText) string {
	if t.Type == "plain_text" {
		return t.Text
	}
	return st.mrkdwn(t.Text, false)
}

// mrkdwn converts Slack mrkdwn to plain text: code fences and inline code
// are kept verbatim (with their backticks when keepCode, as prose quotes
// commands with them), *bold*, _italic_ and ~strike~ lose their marks,
// <@U123> becomes @name, <#C123> #name, <url|label> "label (url)" (a
// package's or cluster's page link just its label),
// <!date^…|fallback> the fallback, and &amp; &lt; &gt; are unescaped.
func (st renderer) mrkdwn(s string, keepCode bool) string {
	var b strings.Builder
	for i, part := range strings.Split(s, "```") {
		if i%2 == 1 { // inside a code block
			b.WriteString(unescape(strings.Trim(part, "\n")))
			continue
		}
		for j, span := range strings.Split(part, "`") {
			if j%2 == 1 {
				if keepCode {
					b.WriteString("`" + unescape(span) + "`")
				} else {
					b.WriteString(unescape(span))
				}
				continue
			}
			b.WriteString(st.inline(span))
		}
	}
	return b.String()
}

var (
	slackEntity = regexp.MustCompile(`<([^<>\n]*)>`)
	// Like Slack, a mark needs a non-space character right inside it:
	// "a letter or _, digits and _" has no italics.
	boldMark   = regexp.MustCompile(`\*([^*\s](?:[^*\n]*[^*\s])?)\*`)
	italicMark = regexp.MustCompile(`(^|[\s(])_([^_\s](?:[^_\n]*[^_\s])?)_($|[\s).,:;!?])`)
	strikeMark = regexp.MustCompile(`(^|[\s(])~([^~\s](?:[^~\n]*[^~\s])?)~($|[\s).,:;!?])`)
	unescaper  = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

func unescape(s string) string { return unescaper.Replace(s) }

// inline converts mrkdwn outside code.
func (st renderer) inline(s string) string {
	s = boldMark.ReplaceAllString(s, "$1")
	s = italicMark.ReplaceAllString(s, "$1$2$3")
	s = strikeMark.ReplaceAllString(s, "$1$2$3")
	s = slackEntity.ReplaceAllStringFunc(s, func(m string) string {
		return st.entity(m[1 : len(m)-1])
	})
	return unescape(s)
}

// entity renders the inside of one <…>.
func (st renderer) entity(e string) string {
	target, label, hasLabel := strings.Cut(e, "|")
	switch {
	case strings.HasPrefix(target, "@"):
		if hasLabel && label != "" {
			return "@" + strings.TrimPrefix(label, "@")
		}
		return "@" + st.userName(target[1:])
	case strings.HasPrefix(target, "#"):
		if hasLabel && label != "" {
			return "#" + label
		}
		return "#" + st.channelName(target[1:])
	case strings.HasPrefix(target, "!"):
		if hasLabel {
			return label // <!date^…|fallback>, <!subteam^ID|@team>
		}
		special, _, _ := strings.Cut(target[1:], "^")
		return "@" + special // <!here>, <!channel>, <!everyone>
	}
	if !hasLabel || label == target || label == "" {
		return target
	}
	if strings.Contains(target, "/packages/") || strings.Contains(target, "/clusters/") {
		return label // a package's or cluster's name links to its page: in a terminal, the name says enough
	}
	return label + " (" + target + ")"
}

// splitLines splits text into its lines, dropping blank ones and
// trailing spaces.
func splitLines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		l = strings.TrimRight(l, " \t\r\n")
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// editLine is the compact form of an edited job card: its status line,
// without the "Job 1001 · " the prefix already says.
func editLine(r rendered) string {
	s := r.status()
	if r.jobID != 0 {
		s = strings.Replace(s, "Job "+strconv.FormatInt(r.jobID, 10)+" · ", "", 1)
	}
	return s
}
