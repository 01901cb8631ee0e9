package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/runjob/runjob/notifier/render"

	"github.com/runjob/runjob/bot/slacktest"
)

// This file turns what the bot posts to Slack (a plain-text fallback and
// Block Kit blocks in mrkdwn) into lines for a terminal, and prints them as
// they happen. It works on the wire JSON the fake Slack stored, not on the
// notifier's Go values, so the shell shows exactly what Slack received.

// shellText renders messages for the terminal. names gives the display name
// of a user or channel id (without @ or #).
type shellText struct {
	userName    func(id string) string
	channelName func(id string) string
}

// shellRendered is one version of a message as the terminal shows it.
type shellRendered struct {
	lines   []string // the body; lines[0] is the summary (status line)
	actions []string // the buttons, as shell commands (":stop 1001") or labels
	jobID   int64    // the job the message is about, 0 when unknown
}

// status is the one-line summary shown for an edit.
func (r shellRendered) status() string {
	if len(r.lines) == 0 {
		return ""
	}
	return r.lines[0]
}

// signature tells whether two versions look the same on a terminal.
func (r shellRendered) signature() string {
	return r.status() + "\x00" + strings.Join(r.actions, "\x00")
}

// wire forms of Block Kit, only what the terminal shows.
type (
	shellKBText struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	shellKBBlock struct {
		Type     string            `json:"type"`
		Text     *shellKBText      `json:"text"`
		Fields   []shellKBText     `json:"fields"`
		Elements []json.RawMessage `json:"elements"`
		AltText  string            `json:"alt_text"`
		// Accessory is a section's side element (a button, an image).
		Accessory json.RawMessage `json:"accessory"`
	}
	shellKBElement struct {
		Type     string          `json:"type"`
		Text     any             `json:"text"` // a text object, or a string in context elements
		ActionID string          `json:"action_id"`
		Value    string          `json:"value"`
		URL      string          `json:"url"`
		AltText  string          `json:"alt_text"`
		Confirm  *shellKBConfirm `json:"confirm"`
	}
	shellKBConfirm struct {
		Text shellKBText `json:"text"`
	}
)

// shellJobInText finds the job id in a fallback text ("Job 1001 (package 434 …").
var shellJobInText = regexp.MustCompile(`\bJob (\d+)\b`)

// message renders one version of a message: its blocks when it has any,
// else its text fallback.
func (st shellText) message(text string, blocks json.RawMessage) shellRendered {
	var r shellRendered
	var bs []shellKBBlock
	if len(blocks) > 0 && string(blocks) != "null" {
		if err := json.Unmarshal(blocks, &bs); err != nil {
			bs = nil
		}
	}
	for _, b := range bs {
		st.block(b, &r)
	}
	if len(r.lines) == 0 {
		r.lines = shellSplitLines(st.mrkdwn(text, true))
	}
	if r.jobID == 0 {
		if m := shellJobInText.FindStringSubmatch(text); m != nil {
			r.jobID, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	if len(r.lines) == 0 {
		r.lines = []string{"(empty message)"}
	}
	return r
}

func (st shellText) block(b shellKBBlock, r *shellRendered) {
	switch b.Type {
	case "section":
		if b.Text != nil {
			r.lines = append(r.lines, st.section(*b.Text)...)
		}
		if len(b.Fields) > 0 {
			var fs []string
			for _, f := range b.Fields {
				// "*Package*\n434" reads as "Package: 434".
				if s := strings.Join(shellSplitLines(st.textObject(f)), ": "); s != "" {
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
			var e shellKBElement
			if json.Unmarshal(raw, &e) != nil {
				continue
			}
			switch {
			case e.Type == "image":
				if e.AltText != "" {
					parts = append(parts, "["+e.AltText+"]")
				}
			default:
				var t shellKBText
				if json.Unmarshal(raw, &t) == nil && t.Text != "" {
					parts = append(parts, strings.Join(shellSplitLines(st.textObject(t)), " "))
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
			r.lines = append(r.lines, shellSplitLines(st.textObject(*b.Text))...)
		}
	}
}

// element renders an interactive element: our buttons become the shell
// commands that click them; others show their label.
func (st shellText) element(raw json.RawMessage, r *shellRendered) {
	var e shellKBElement
	if json.Unmarshal(raw, &e) != nil {
		return
	}
	label := ""
	if m, ok := e.Text.(map[string]any); ok {
		label, _ = m["text"].(string)
		label = shellUnescape(label)
	}
	switch {
	case e.ActionID == render.ActionStop || e.ActionID == render.ActionRerun:
		cmd := ":stop"
		if e.ActionID == render.ActionRerun {
			cmd = ":rerun"
		}
		r.actions = append(r.actions, cmd+" "+e.Value)
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
func (st shellText) section(t shellKBText) []string {
	lines := shellSplitLines(st.textObject(t))
	raw := strings.TrimSpace(t.Text)
	first, _, _ := strings.Cut(raw, "\n")
	if t.Type != "mrkdwn" || len(lines) < 2 || strings.Contains(raw, "```") || !shellBoldTitle.MatchString(first) {
		return lines
	}
	rest := make([]string, 0, len(lines)-1)
	for _, l := range lines[1:] {
		rest = append(rest, strings.TrimPrefix(strings.TrimSpace(l), "• "))
	}
	return []string{lines[0] + ": " + strings.Join(rest, " · ")}
}

var shellBoldTitle = regexp.MustCompile(`^\*[^*\n]+\*$`)

// textObject renders a text object: mrkdwn is converted; plain text is
// taken as is.
func (st shellText) textObject(t shellKBText) string {
	if t.Type == "plain_text" {
		return t.Text
	}
	return st.mrkdwn(t.Text, false)
}

// mrkdwn converts Slack mrkdwn to plain text: code fences and inline code
// are kept verbatim (with their backticks when keepCode, as prose quotes
// commands with them), *bold*, _italic_ and ~strike~ lose their marks,
// <@U123> becomes @name, <#C123> #name, <url|label> "label (url)",
// <!date^…|fallback> the fallback, and &amp; &lt; &gt; are unescaped.
func (st shellText) mrkdwn(s string, keepCode bool) string {
	var b strings.Builder
	for i, part := range strings.Split(s, "```") {
		if i%2 == 1 { // inside a code block
			b.WriteString(shellUnescape(strings.Trim(part, "\n")))
			continue
		}
		for j, span := range strings.Split(part, "`") {
			if j%2 == 1 {
				if keepCode {
					b.WriteString("`" + shellUnescape(span) + "`")
				} else {
					b.WriteString(shellUnescape(span))
				}
				continue
			}
			b.WriteString(st.inline(span))
		}
	}
	return b.String()
}

var (
	shellSlackEntity = regexp.MustCompile(`<([^<>\n]*)>`)
	// Like Slack, a mark needs a non-space character right inside it:
	// "a letter or _, digits and _" has no italics.
	shellBoldMark   = regexp.MustCompile(`\*([^*\s](?:[^*\n]*[^*\s])?)\*`)
	shellItalicMark = regexp.MustCompile(`(^|[\s(])_([^_\s](?:[^_\n]*[^_\s])?)_($|[\s).,:;!?])`)
	shellStrikeMark = regexp.MustCompile(`(^|[\s(])~([^~\s](?:[^~\n]*[^~\s])?)~($|[\s).,:;!?])`)
	shellUnescaper  = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

func shellUnescape(s string) string { return shellUnescaper.Replace(s) }

// inline converts mrkdwn outside code.
func (st shellText) inline(s string) string {
	s = shellBoldMark.ReplaceAllString(s, "$1")
	s = shellItalicMark.ReplaceAllString(s, "$1$2$3")
	s = shellStrikeMark.ReplaceAllString(s, "$1$2$3")
	s = shellSlackEntity.ReplaceAllStringFunc(s, func(m string) string {
		return st.entity(m[1 : len(m)-1])
	})
	return shellUnescape(s)
}

// entity renders the inside of one <…>.
func (st shellText) entity(e string) string {
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
	return label + " (" + target + ")"
}

// splitLines splits text into its lines, dropping blank ones and
// trailing spaces.
func shellSplitLines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		l = strings.TrimRight(l, " \t\r\n")
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// shellSanitize makes text safe to write to a terminal. Messages carry text
// from users and from Xplenty (its error texts), and a terminal obeys
// control sequences wherever they come from: ESC [2J clears the screen,
// ESC ]52 writes the clipboard, BEL rings, a bare CR overwrites the line.
// So every C0 control but line feed and tab, DEL and the C1 controls
// (U+0080–U+009F, which some terminals read as ESC sequences) are written as
// a visible escape (\x1b), the bidi overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), which reorder what follows them, as \u202e, and bytes
// that are not UTF-8 as U+FFFD.
func shellSanitize(s string) string {
	if !strings.ContainsFunc(s, shellUnsafe) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case shellUnsafe(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case shellUnsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// shellUnsafe reports whether r must not reach a terminal as it is.
func shellUnsafe(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r == 0x7f, 0x80 <= r && r <= 0x9f:
		return true
	case 0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069:
		return true
	}
	return false
}

// width is the width of s on a terminal, counting each rune as one
// column (good enough for the ASCII the shell puts in its prefixes).
func shellWidth(s string) int { return utf8.RuneCountInString(s) }

// editLine is the compact form of an edited job card: its status line,
// without the "Job 1001 · " the prefix already says.
func shellEditLine(r shellRendered) string {
	s := r.status()
	if r.jobID != 0 {
		s = strings.Replace(s, "Job "+strconv.FormatInt(r.jobID, 10)+" · ", "", 1)
	}
	return s
}

// shellPrinter prints what the bot posts, as it happens: new messages in
// full, card edits as their status line, ephemerals for whoever they are
// shown to.
type shellPrinter struct {
	sh   *shell
	mu   sync.Mutex
	seen map[string]int    // message key → versions printed
	last map[string]string // message key → signature last printed
	n    int               // messages looked at
}

func shellMsgKey(m slacktest.Message) string { return m.Channel + "/" + m.TS }

func (p *shellPrinter) run(ctx context.Context) {
	for {
		var snap *slacktest.Snapshot
		err := p.sh.fake.Wait(ctx, func(s *slacktest.Snapshot) bool {
			if p.news(s) {
				snap = s
				return true
			}
			return false
		})
		if err != nil {
			return
		}
		p.render(snap)
	}
}

// news reports whether snap holds anything not printed yet.
func (p *shellPrinter) news(snap *slacktest.Snapshot) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	msgs := snap.Messages()
	if len(msgs) != p.n {
		return true
	}
	for _, m := range msgs {
		if p.seen[shellMsgKey(m)] != shellVersions(m) {
			return true
		}
	}
	return false
}

// shellVersions counts a message's versions, a deletion counting as one more.
func shellVersions(m slacktest.Message) int {
	n := max(len(m.History), 1)
	if m.Deleted {
		n++
	}
	return n
}

func (p *shellPrinter) render(snap *slacktest.Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	msgs := snap.Messages()
	p.n = len(msgs)
	for _, m := range msgs {
		k := shellMsgKey(m)
		done, total := p.seen[k], shellVersions(m)
		if done == total {
			continue
		}
		p.seen[k] = total
		if m.Deleted {
			if done > 0 {
				p.sh.con.println(p.label(snap, m) + " runjob deleted a message")
			}
			continue
		}
		hist := m.History
		if len(hist) == 0 {
			hist = []slacktest.Version{{Text: m.Text, Blocks: m.Blocks}}
		}
		if done == 0 {
			// New: show it as it is now, in full.
			r := p.sh.text.message(m.Text, m.Blocks)
			p.last[k] = r.signature()
			p.full(snap, m, r, "runjob")
			continue
		}
		for _, v := range hist[min(done, len(hist)):] {
			r := p.sh.text.message(v.Text, v.Blocks)
			sig := r.signature()
			if sig == p.last[k] {
				continue
			}
			prevActions := p.last[k]
			p.last[k] = sig
			if r.jobID == 0 || m.Ephemeral {
				p.full(snap, m, r, "runjob (edited)")
				continue
			}
			prefix := p.label(snap, m) + " "
			out := prefix + fmt.Sprintf("runjob (edited card of job %d): ", r.jobID) + shellEditLine(r)
			if _, acts, _ := strings.Cut(prevActions, "\x00"); acts != strings.Join(r.actions, "\x00") {
				out += "\n" + strings.Repeat(" ", shellWidth(prefix)) + "actions: " + shellActionList(r.actions)
			}
			p.sh.con.println(out)
		}
	}
}

func shellActionList(a []string) string {
	if len(a) == 0 {
		return "none"
	}
	return strings.Join(a, " · ")
}

// full prints a message with all its lines.
func (p *shellPrinter) full(snap *slacktest.Snapshot, m slacktest.Message, r shellRendered, author string) {
	prefix := p.label(snap, m) + " "
	indent := strings.Repeat(" ", shellWidth(prefix))
	var b strings.Builder
	b.WriteString(prefix + author + ": " + r.lines[0])
	for _, l := range r.lines[1:] {
		b.WriteString("\n" + indent + l)
	}
	if len(r.actions) > 0 {
		b.WriteString("\n" + indent + "actions: " + shellActionList(r.actions))
	}
	p.sh.con.println(b.String())
}

// label says where a message is: "[#sandbox]", "[#sandbox thread of job
// 1001]", "[only you]".
func (p *shellPrinter) label(snap *slacktest.Snapshot, m slacktest.Message) string {
	user, channel := p.sh.where()
	where := "#" + shellChannelLabel(m.Channel)
	if m.Ephemeral {
		who := "only you"
		if m.User != user {
			who = "only @" + shellUserLabel(m.User)
		}
		if m.Channel == channel {
			return "[" + who + "]"
		}
		return "[" + where + ", " + who + "]"
	}
	if m.ThreadTS != "" {
		parent, ok := snap.Message(m.Channel, m.ThreadTS)
		if ok {
			if pr := p.sh.text.message(parent.Text, parent.Blocks); pr.jobID != 0 {
				return fmt.Sprintf("[%s thread of job %d]", where, pr.jobID)
			}
		}
		return "[" + where + " thread]"
	}
	return "[" + where + "]"
}
