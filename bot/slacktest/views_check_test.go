package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestParseViewLimits(t *testing.T) {
	form := func(change func(*slack.ModalViewRequest)) string {
		v := runjobForm("A=1")
		change(&v)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// input replaces the block at i of the form with b.
	input := func(i int, b slack.Block) string {
		return form(func(v *slack.ModalViewRequest) { v.Blocks.BlockSet[i] = b })
	}
	options := func(n int) []*slack.OptionBlockObject {
		out := make([]*slack.OptionBlockObject, n)
		for i := range out {
			out[i] = opt(fmt.Sprint(i), fmt.Sprint("cluster ", i))
		}
		return out
	}
	static := func(opts ...*slack.OptionBlockObject) slack.Block {
		return slack.NewInputBlock("cluster", plain("Cluster"), nil,
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "cluster", opts...))
	}
	text := func(change func(*slack.PlainTextInputBlockElement)) slack.Block {
		e := slack.NewPlainTextInputBlockElement(nil, "variables")
		change(e)
		return slack.NewInputBlock("variables", plain("Variables"), nil, e)
	}
	n := func(i int) *int { return &i }
	many := make([]slack.Block, maxViewBlocks+1)
	for i := range many {
		many[i] = slack.NewDividerBlock()
	}
	tests := []struct {
		name    string
		raw     string
		wantErr string // "" for valid
		pointer string // in the messages
	}{
		{name: "the runjob form", raw: form(func(*slack.ModalViewRequest) {})},
		{name: "not an object", raw: `[]`, wantErr: "invalid_arguments"},
		{name: "unknown type", raw: `{"type":"dialog","blocks":[]}`, wantErr: "invalid_arguments", pointer: "/view/type"},
		{name: "no title", raw: form(func(v *slack.ModalViewRequest) { v.Title = nil }), wantErr: "invalid_arguments", pointer: "/view/title"},
		{name: "title of 24", raw: form(func(v *slack.ModalViewRequest) { v.Title = plain(strings.Repeat("t", 24)) })},
		{name: "title of 25", raw: form(func(v *slack.ModalViewRequest) { v.Title = plain(strings.Repeat("t", 25)) }),
			wantErr: "invalid_arguments", pointer: "/view/title/text"},
		{name: "mrkdwn title", raw: form(func(v *slack.ModalViewRequest) {
			v.Title = slack.NewTextBlockObject(slack.MarkdownType, "Run", false, false)
		}), wantErr: "invalid_arguments", pointer: "/view/title/type"},
		{name: "long submit", raw: form(func(v *slack.ModalViewRequest) { v.Submit = plain(strings.Repeat("s", 25)) }),
			wantErr: "invalid_arguments", pointer: "/view/submit/text"},
		{name: "long close", raw: form(func(v *slack.ModalViewRequest) { v.Close = plain(strings.Repeat("c", 25)) }),
			wantErr: "invalid_arguments", pointer: "/view/close/text"},
		{name: "inputs without submit", raw: form(func(v *slack.ModalViewRequest) { v.Submit = nil }),
			wantErr: "invalid_arguments", pointer: "/view/submit"},
		{name: "101 blocks", raw: form(func(v *slack.ModalViewRequest) { v.Blocks.BlockSet = many }),
			wantErr: "invalid_arguments", pointer: "/view/blocks"},
		{name: "long callback_id", raw: form(func(v *slack.ModalViewRequest) { v.CallbackID = strings.Repeat("c", 256) }),
			wantErr: "invalid_arguments", pointer: "/view/callback_id"},
		{name: "private_metadata of 3000", raw: form(func(v *slack.ModalViewRequest) { v.PrivateMetadata = strings.Repeat("m", 3000) })},
		{name: "private_metadata of 3001", raw: form(func(v *slack.ModalViewRequest) { v.PrivateMetadata = strings.Repeat("m", 3001) }),
			wantErr: "invalid_arguments", pointer: "/view/private_metadata"},
		{name: "duplicate block_id", raw: input(1, slack.NewInputBlock("package", plain("Again"), nil,
			slack.NewPlainTextInputBlockElement(nil, "x"))), wantErr: "invalid_arguments", pointer: "/view/blocks/1/block_id"},
		{name: "long block_id", raw: input(2, slack.NewInputBlock(strings.Repeat("b", 256), plain("Variables"), nil,
			slack.NewPlainTextInputBlockElement(nil, "x"))), wantErr: "invalid_arguments", pointer: "/view/blocks/2/block_id"},
		{name: "input without label", raw: input(2, slack.NewInputBlock("variables", nil, nil,
			slack.NewPlainTextInputBlockElement(nil, "x"))), wantErr: "invalid_arguments", pointer: "/view/blocks/2/label"},
		{name: "input without element", raw: input(2, slack.NewInputBlock("variables", plain("Variables"), nil, nil)),
			wantErr: "invalid_arguments", pointer: "/view/blocks/2/element"},
		{name: "100 options", raw: input(1, static(options(100)...))},
		{name: "101 options", raw: input(1, static(options(101)...)), wantErr: "invalid_arguments", pointer: "/view/blocks/1/element/options"},
		{name: "no options", raw: input(1, static()), wantErr: "invalid_arguments", pointer: "/view/blocks/1/element"},
		{name: "option text of 76", raw: input(1, static(opt("52", strings.Repeat("x", 76)))),
			wantErr: "invalid_arguments", pointer: "/view/blocks/1/element/options/0/text/text"},
		{name: "option value of 151", raw: input(1, static(opt(strings.Repeat("9", 151), "x"))),
			wantErr: "invalid_arguments", pointer: "/view/blocks/1/element/options/0/value"},
		{name: "initial_option not offered", raw: input(1, func() slack.Block {
			e := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "cluster", opt("52", "etl-52"))
			e.InitialOption = opt("53", "etl-53")
			return slack.NewInputBlock("cluster", plain("Cluster"), nil, e)
		}()), wantErr: "invalid_arguments", pointer: "/view/blocks/1/element/initial_option"},
		{name: "option groups", raw: input(1, slack.NewInputBlock("cluster", plain("Cluster"), nil,
			slack.NewOptionsGroupSelectBlockElement(slack.OptTypeStatic, nil, "cluster",
				slack.NewOptionGroupBlockElement(plain("EU"), opt("52", "etl-52")))))},
		{name: "negative min_query_length", raw: input(0, func() slack.Block {
			e := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, nil, "package")
			e.MinQueryLength = n(-1)
			return slack.NewInputBlock("package", plain("Package"), nil, e)
		}()), wantErr: "invalid_arguments", pointer: "/view/blocks/0/element/min_query_length"},
		{name: "initial_value of 3000", raw: input(2, text(func(e *slack.PlainTextInputBlockElement) { e.InitialValue = strings.Repeat("v", 3000) }))},
		{name: "initial_value of 3001", raw: input(2, text(func(e *slack.PlainTextInputBlockElement) { e.InitialValue = strings.Repeat("v", 3001) })),
			wantErr: "invalid_arguments", pointer: "/view/blocks/2/element/initial_value"},
		{name: "max_length of 3001", raw: input(2, text(func(e *slack.PlainTextInputBlockElement) { e.MaxLength = 3001 })),
			wantErr: "invalid_arguments", pointer: "/view/blocks/2/element/max_length"},
		{name: "too large", raw: `{"type":"modal","private_metadata":"` + strings.Repeat("m", maxViewBytes) + `"}`, wantErr: "view_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := parseView(tt.raw)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("parseView: %v %v", err, blockMessages(err))
				}
				if len(spec.blocks) == 0 {
					t.Errorf("no blocks stored")
				}
				return
			}
			var be *blockError
			if !errors.As(err, &be) || be.code != tt.wantErr {
				t.Fatalf("parseView: %v, want %s", err, tt.wantErr)
			}
			if tt.pointer != "" && !strings.Contains(strings.Join(be.messages, "\n"), "[json-pointer:"+tt.pointer+"]") {
				t.Errorf("messages %q do not point at %s", be.messages, tt.pointer)
			}
		})
	}
}

// Slack names what the app left unnamed: every block gets a block_id and
// every element an action_id, which key the state.
func TestParseViewFillsIDs(t *testing.T) {
	raw := `{"type":"modal","title":{"type":"plain_text","text":"Run"},"submit":{"type":"plain_text","text":"Run"},
		"blocks":[{"type":"input","label":{"type":"plain_text","text":"Note"},"element":{"type":"plain_text_input"}}]}`
	spec, err := parseView(raw)
	if err != nil {
		t.Fatal(err)
	}
	st := initialState(spec.blocks)
	if len(st) != 1 {
		t.Fatalf("state = %+v", st)
	}
	for blockID, byAction := range st {
		for actionID, sv := range byAction {
			if blockID == "" || actionID == "" || sv.Type != "plain_text_input" {
				t.Errorf("state entry %q/%q = %+v", blockID, actionID, sv)
			}
		}
	}
}
