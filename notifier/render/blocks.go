package render

import "github.com/slack-go/slack"

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
