package slacktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf16"
)

// Block Kit limits Slack enforces with invalid_blocks; see
// https://docs.slack.dev/reference/block-kit/blocks and …/block-elements. Checking
// them here makes a card that Slack would refuse (a 4,000 character error message
// from Xplenty in a section, say) fail in tests too.
const (
	maxBlocks          = 50
	maxBlockIDLen      = 255
	maxSectionText     = 3000
	maxSectionFields   = 10
	maxFieldText       = 2000
	maxHeaderText      = 150
	maxContextElements = 10
	maxContextText     = 3000
	maxActionsElements = 25
	maxButtonText      = 75
	maxButtonValue     = 2000
	maxActionIDLen     = 255
	maxURLLen          = 3000
	maxConfirmTitle    = 100
	maxConfirmText     = 300
	maxConfirmButton   = 30
	// maxMessageText is the limit of a message's top-level text: Slack
	// truncates beyond 40,000 characters and answers msg_too_long
	// (https://docs.slack.dev/reference/methods/chat.postMessage). The fake
	// refuses, so a test sees a text that would not arrive whole.
	maxMessageText = 40000
)

// textLen is the length of s as Slack counts it against its limits: in
// UTF-16 code units, so an emoji outside the Basic Multilingual Plane (😀)
// counts twice. Slack's documentation says "characters"; counting code
// units is what its JavaScript-based limits amount to and the stricter
// reading, so a message the fake accepts is one Slack accepts.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// blockError is an invalid_blocks answer with Slack-style response_metadata messages.
type blockError struct {
	code     string
	messages []string
}

func (e *blockError) Error() string { return e.code }

type blockChecker struct {
	messages []string
}

func (c *blockChecker) fail(pointer, format string, args ...any) {
	c.messages = append(c.messages, fmt.Sprintf("[ERROR] "+format+" [json-pointer:%s]", append(args, pointer)...))
}

func (c *blockChecker) maxLen(pointer, s string, n int) {
	if textLen(s) > n {
		c.fail(pointer, "must be less than %d characters", n+1)
	}
}

// normalizeBlocks validates blocks (a JSON array as Slack receives it) and returns
// them as Slack stores them: every block gets a block_id, generated when missing.
func normalizeBlocks(raw string) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var blocks []map[string]any
	if err := dec.Decode(&blocks); err != nil {
		return nil, &blockError{code: "invalid_blocks_format"}
	}
	var c blockChecker
	c.blocks("/blocks", blocks, maxBlocks)
	if len(c.messages) > 0 {
		return nil, &blockError{code: "invalid_blocks", messages: c.messages}
	}
	out, err := json.Marshal(blocks)
	if err != nil {
		return nil, &blockError{code: "invalid_blocks_format"}
	}
	return out, nil
}

// blocks checks a list of blocks (at most limit of them) found at pointer p
// and gives every block without one a block_id, as Slack stores them.
func (c *blockChecker) blocks(p string, blocks []map[string]any, limit int) {
	if len(blocks) > limit {
		c.fail(p, "no more than %d items allowed", limit)
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		p := fmt.Sprintf("%s/%d", p, i)
		if b == nil {
			c.fail(p, "must be an object")
			continue
		}
		typ, _ := b["type"].(string)
		if typ == "" {
			c.fail(p+"/type", "missing required field: type")
		}
		if id, ok := b["block_id"].(string); ok && id != "" {
			c.maxLen(p+"/block_id", id, maxBlockIDLen)
			if seen[id] {
				c.fail(p+"/block_id", "duplicate block_id")
			}
			seen[id] = true
		} else {
			b["block_id"] = randomID(5)
		}
		c.block(p, typ, b)
	}
}

func (c *blockChecker) block(p, typ string, b map[string]any) {
	switch typ {
	case "section":
		if t, ok := b["text"].(map[string]any); ok {
			c.textObject(p+"/text", t, maxSectionText)
		} else if _, ok := b["fields"]; !ok {
			c.fail(p, "must provide either text or fields")
		}
		if fields, ok := b["fields"].([]any); ok {
			if len(fields) > maxSectionFields {
				c.fail(p+"/fields", "no more than %d items allowed", maxSectionFields)
			}
			for i, f := range fields {
				if t, ok := f.(map[string]any); ok {
					c.textObject(fmt.Sprintf("%s/fields/%d", p, i), t, maxFieldText)
				}
			}
		}
		if a, ok := b["accessory"].(map[string]any); ok {
			c.element(p+"/accessory", a, map[string]bool{})
		}
	case "header":
		t, ok := b["text"].(map[string]any)
		if !ok {
			c.fail(p+"/text", "missing required field: text")
			return
		}
		if t["type"] != "plain_text" {
			c.fail(p+"/text/type", "must be plain_text")
		}
		c.textObject(p+"/text", t, maxHeaderText)
	case "context":
		elems, _ := b["elements"].([]any)
		if len(elems) == 0 || len(elems) > maxContextElements {
			c.fail(p+"/elements", "must have between 1 and %d items", maxContextElements)
		}
		for i, e := range elems {
			if m, ok := e.(map[string]any); ok && (m["type"] == "plain_text" || m["type"] == "mrkdwn") {
				c.textObject(fmt.Sprintf("%s/elements/%d", p, i), m, maxContextText)
			}
		}
	case "actions":
		elems, _ := b["elements"].([]any)
		if len(elems) == 0 || len(elems) > maxActionsElements {
			c.fail(p+"/elements", "must have between 1 and %d items", maxActionsElements)
		}
		actionIDs := map[string]bool{}
		for i, e := range elems {
			if m, ok := e.(map[string]any); ok {
				c.element(fmt.Sprintf("%s/elements/%d", p, i), m, actionIDs)
			}
		}
	case "input":
		c.input(p, b)
	}
}

func (c *blockChecker) textObject(p string, t map[string]any, limit int) {
	typ, _ := t["type"].(string)
	if typ != "plain_text" && typ != "mrkdwn" {
		c.fail(p+"/type", "must be one of plain_text, mrkdwn")
	}
	text, _ := t["text"].(string)
	if text == "" {
		c.fail(p+"/text", "must be more than 0 characters")
	}
	c.maxLen(p+"/text", text, limit)
}

// element checks an interactive element; actionIDs collects the action_ids of the
// containing block, which must be unique in it.
func (c *blockChecker) element(p string, e map[string]any, actionIDs map[string]bool) {
	if id, ok := e["action_id"].(string); ok {
		c.maxLen(p+"/action_id", id, maxActionIDLen)
		if actionIDs[id] {
			c.fail(p+"/action_id", "duplicate action_id")
		}
		actionIDs[id] = true
	}
	switch e["type"] {
	case "button":
		c.button(p, e)
	case "static_select", "multi_static_select":
		c.staticSelect(p, e)
	case "external_select", "multi_external_select":
		c.externalSelect(p, e)
	case "plain_text_input":
		c.textInput(p, e)
	}
}

// button checks a button: plain_text text, value, url, style, confirm.
func (c *blockChecker) button(p string, e map[string]any) {
	t, ok := e["text"].(map[string]any)
	if !ok {
		c.fail(p+"/text", "missing required field: text")
	} else {
		if t["type"] != "plain_text" {
			c.fail(p+"/text/type", "must be plain_text")
		}
		c.textObject(p+"/text", t, maxButtonText)
	}
	if v, ok := e["value"].(string); ok {
		c.maxLen(p+"/value", v, maxButtonValue)
	}
	if u, ok := e["url"].(string); ok {
		c.maxLen(p+"/url", u, maxURLLen)
	}
	if style, ok := e["style"].(string); ok && style != "primary" && style != "danger" {
		c.fail(p+"/style", "must be one of primary, danger")
	}
	if conf, ok := e["confirm"].(map[string]any); ok {
		c.confirm(p+"/confirm", conf)
	}
}

// confirm checks a confirmation dialog object: its title and buttons are
// plain_text, its text plain_text or mrkdwn, its style primary or danger.
func (c *blockChecker) confirm(p string, conf map[string]any) {
	for _, f := range []struct {
		name      string
		limit     int
		required  bool
		plainOnly bool
	}{
		{"title", maxConfirmTitle, true, true},
		{"text", maxConfirmText, true, false},
		{"confirm", maxConfirmButton, true, true},
		{"deny", maxConfirmButton, false, true},
	} {
		t, ok := conf[f.name].(map[string]any)
		if !ok {
			if f.required {
				c.fail(p+"/"+f.name, "missing required field: %s", f.name)
			}
			continue
		}
		if f.plainOnly && t["type"] != "plain_text" {
			c.fail(p+"/"+f.name+"/type", "must be plain_text")
		}
		c.textObject(p+"/"+f.name, t, f.limit)
	}
	if style, ok := conf["style"]; ok && style != "primary" && style != "danger" {
		c.fail(p+"/style", "must be one of primary, danger")
	}
}

// findElement finds the interactive element with actionID in stored blocks and
// returns it with the block_id of its block.
func findElement(blocks json.RawMessage, actionID string) (map[string]any, string, bool) {
	var bs []map[string]any
	dec := json.NewDecoder(bytes.NewReader(blocks))
	dec.UseNumber()
	if len(blocks) == 0 || dec.Decode(&bs) != nil {
		return nil, "", false
	}
	for _, b := range bs {
		blockID, _ := b["block_id"].(string)
		var candidates []any
		if elems, ok := b["elements"].([]any); ok {
			candidates = append(candidates, elems...)
		}
		if a, ok := b["accessory"]; ok {
			candidates = append(candidates, a)
		}
		for _, e := range candidates {
			if m, ok := e.(map[string]any); ok && m["action_id"] == actionID {
				return m, blockID, true
			}
		}
	}
	return nil, "", false
}
