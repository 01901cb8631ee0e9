package slacktest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestNormalizeBlocks(t *testing.T) {
	plain := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	mrkdwn := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	section := func(s string) slack.Block {
		return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, s, false, false), nil, nil)
	}
	stop := slack.NewButtonBlockElement("runjob_stop", "1001", plain("Stop")).
		WithConfirm(slack.NewConfirmationBlockObject(plain("Stop job 1001?"), plain("It cannot be resumed."), plain("Stop"), plain("Cancel")))
	many := make([]slack.Block, maxBlocks+1)
	for i := range many {
		many[i] = section("x")
	}
	tests := []struct {
		name    string
		blocks  []slack.Block
		raw     string // used instead of blocks when set
		wantErr string // "" for valid
		pointer string // in the error messages
	}{
		{name: "card with a confirm dialog", blocks: []slack.Block{section("Job 1001"), slack.NewActionBlock("", stop)}},
		{name: "not an array", raw: `{"type":"section"}`, wantErr: "invalid_blocks_format"},
		{name: "too many blocks", blocks: many, wantErr: "invalid_blocks", pointer: "/blocks"},
		{name: "long section", blocks: []slack.Block{section(strings.Repeat("é", maxSectionText+1))}, wantErr: "invalid_blocks", pointer: "/blocks/0/text/text"},
		{name: "section at the limit", blocks: []slack.Block{section(strings.Repeat("é", maxSectionText))}},
		// Slack counts an emoji outside the BMP as two (UTF-16 code units).
		{name: "section of emoji over the limit", blocks: []slack.Block{section(strings.Repeat("😀", maxSectionText/2+1))}, wantErr: "invalid_blocks", pointer: "/blocks/0/text/text"},
		{name: "section of emoji at the limit", blocks: []slack.Block{section(strings.Repeat("😀", maxSectionText/2))}},
		{name: "long button text", blocks: []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", "v", plain(strings.Repeat("x", maxButtonText+1))))},
			wantErr: "invalid_blocks", pointer: "/blocks/0/elements/0/text/text"},
		{name: "duplicate action_id", blocks: []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", "1", plain("A")), slack.NewButtonBlockElement("a", "2", plain("B")))},
			wantErr: "invalid_blocks", pointer: "/blocks/0/elements/1/action_id"},
		{name: "duplicate block_id", raw: `[{"type":"divider","block_id":"d"},{"type":"divider","block_id":"d"}]`,
			wantErr: "invalid_blocks", pointer: "/blocks/1/block_id"},
		{name: "confirm without text", raw: `[{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"A"},"confirm":{"title":{"type":"plain_text","text":"t"},"confirm":{"type":"plain_text","text":"ok"}}}]}]`,
			wantErr: "invalid_blocks", pointer: "/blocks/0/elements/0/confirm/text"},
		{name: "header in mrkdwn", raw: `[{"type":"header","text":{"type":"mrkdwn","text":"*x*"}}]`, wantErr: "invalid_blocks", pointer: "/blocks/0/text/type"},
		{name: "confirm dialog with mrkdwn text and a style", blocks: []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", "v", plain("A")).
			WithConfirm(slack.NewConfirmationBlockObject(plain("t"), mrkdwn("*sure?*"), plain("Yes"), plain("No")).WithStyle(slack.StyleDanger)))}},
		{name: "confirm title in mrkdwn", blocks: []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", "v", plain("A")).
			WithConfirm(slack.NewConfirmationBlockObject(mrkdwn("*t*"), plain("sure?"), plain("Yes"), plain("No"))))},
			wantErr: "invalid_blocks", pointer: "/blocks/0/elements/0/confirm/title/type"},
		{name: "confirm button in mrkdwn", blocks: []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", "v", plain("A")).
			WithConfirm(slack.NewConfirmationBlockObject(plain("t"), plain("sure?"), mrkdwn("*Yes*"), plain("No"))))},
			wantErr: "invalid_blocks", pointer: "/blocks/0/elements/0/confirm/confirm/type"},
		{name: "deny button in mrkdwn", blocks: []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", "v", plain("A")).
			WithConfirm(slack.NewConfirmationBlockObject(plain("t"), plain("sure?"), plain("Yes"), mrkdwn("_No_"))))},
			wantErr: "invalid_blocks", pointer: "/blocks/0/elements/0/confirm/deny/type"},
		{name: "confirm style", blocks: []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", "v", plain("A")).
			WithConfirm(slack.NewConfirmationBlockObject(plain("t"), plain("sure?"), plain("Yes"), plain("No")).WithStyle("warning")))},
			wantErr: "invalid_blocks", pointer: "/blocks/0/elements/0/confirm/style"},
		{name: "context text at the limit", blocks: []slack.Block{slack.NewContextBlock("", mrkdwn(strings.Repeat("é", maxContextText)), plain("x"))}},
		{name: "long context mrkdwn", blocks: []slack.Block{slack.NewContextBlock("", plain("x"), mrkdwn(strings.Repeat("é", maxContextText+1)))},
			wantErr: "invalid_blocks", pointer: "/blocks/0/elements/1/text"},
		{name: "long context plain_text", blocks: []slack.Block{slack.NewContextBlock("", plain(strings.Repeat("x", maxContextText+1)))},
			wantErr: "invalid_blocks", pointer: "/blocks/0/elements/0/text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if raw == "" {
				b, err := json.Marshal(tt.blocks)
				if err != nil {
					t.Fatal(err)
				}
				raw = string(b)
			}
			out, err := normalizeBlocks(raw)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("normalizeBlocks: %v (%+v)", err, err)
				}
				var stored []map[string]any
				if err := json.Unmarshal(out, &stored); err != nil {
					t.Fatal(err)
				}
				for i, b := range stored {
					if id, _ := b["block_id"].(string); id == "" {
						t.Errorf("block %d stored without block_id", i)
					}
				}
				return
			}
			var be *blockError
			if !errors.As(err, &be) || be.code != tt.wantErr {
				t.Fatalf("normalizeBlocks error = %v, want %s", err, tt.wantErr)
			}
			if tt.pointer != "" && !strings.Contains(strings.Join(be.messages, "\n"), "[json-pointer:"+tt.pointer+"]") {
				t.Errorf("messages %q do not point at %s", be.messages, tt.pointer)
			}
		})
	}
}
