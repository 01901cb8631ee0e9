package shell

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/runjob/runjob/bot/slacktest"
)

// This file shows a form (a modal the fake Slack holds) as text: its title,
// then each block as the person sees it, an input with its label, its
// current choice or text (secret values masked), a static picker's options
// numbered, its hint and the error the bot put on it.

// text is the whole form.
func (f *form) text(v slacktest.View) string {
	lines := []string{"[form] " + v.Title}
	for _, b := range viewBlocks(v) {
		lines = append(lines, f.blockLines(v, b)...)
	}
	return strings.Join(lines, "\n")
}

// changed are the lines of the blocks of v that differ from was.
func (f *form) changed(was, v slacktest.View) []string {
	before := map[string]string{}
	for _, b := range viewBlocks(was) {
		before[b.BlockID] = strings.Join(f.blockLines(was, b), "\n")
	}
	var out []string
	for _, b := range viewBlocks(v) {
		lines := f.blockLines(v, b)
		if strings.Join(lines, "\n") != before[b.BlockID] {
			out = append(out, lines...)
		}
	}
	return out
}

// viewBlocks are the blocks of v, in order.
func viewBlocks(v slacktest.View) []slacktest.ViewBlock {
	var ids []struct {
		BlockID string `json:"block_id"`
	}
	if json.Unmarshal(v.Blocks, &ids) != nil {
		return nil
	}
	out := make([]slacktest.ViewBlock, 0, len(ids))
	for _, id := range ids {
		if b, ok := v.Block(id.BlockID); ok {
			out = append(out, b)
		}
	}
	return out
}

// inputBlocks are the ids of the input blocks of v, in order: the fields
// to fill in.
func inputBlocks(v slacktest.View) []string {
	var ids []string
	for _, b := range viewBlocks(v) {
		if b.Type == "input" {
			ids = append(ids, b.BlockID)
		}
	}
	return ids
}

// blockLines shows one block: an input as its label and state, another
// block (the edit form's intro, the note under the variables) as the
// shell shows a message's blocks.
func (f *form) blockLines(v slacktest.View, b slacktest.ViewBlock) []string {
	if b.Type != "input" {
		var kb kbBlock
		if json.Unmarshal(b.Raw, &kb) != nil {
			return nil
		}
		var r rendered
		f.sh.text.block(kb, &r)
		out := make([]string, len(r.lines))
		for i, l := range r.lines {
			out[i] = "  " + l
		}
		return out
	}
	label := "  " + b.Label
	if b.Optional {
		label += " (optional)"
	}
	var out []string
	if len(b.Elements) == 0 {
		return []string{label}
	}
	el := b.Elements[0]
	st := v.Value(b.BlockID, el.ActionID)
	switch el.Type {
	case "static_select", "external_select":
		cur := "(none chosen)"
		if st.Selected != nil {
			cur = st.Selected.Text
		}
		out = append(out, label+": "+cur)
		if el.Type == "static_select" {
			out = append(out, numbered(el.Options))
		}
	case "plain_text_input":
		if st.Value == "" {
			out = append(out, label+": (empty)")
		} else {
			out = append(out, label+":", indent(f.sh.maskVariables(st.Value)))
		}
	default:
		out = append(out, label+": (a "+el.Type+")")
	}
	var raw struct {
		Hint *kbText `json:"hint"`
	}
	if json.Unmarshal(b.Raw, &raw) == nil && raw.Hint != nil && raw.Hint.Text != "" {
		out = append(out, "    ("+strings.Join(splitLines(f.sh.text.textObject(*raw.Hint)), " ")+")")
	}
	if e, ok := v.Errors[b.BlockID]; ok {
		out = append(out, "    error: "+e)
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// indent indents every line of s for a block's text.
func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}
