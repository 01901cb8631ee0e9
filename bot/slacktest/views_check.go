package slacktest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Limits of views and of the elements of forms, which Slack enforces with
// invalid_arguments (views.*) or invalid_blocks (chat.*). Sources, under
// https://docs.slack.dev/reference/: views/modal-views (title, close and
// submit 24 characters, 100 blocks, private_metadata 3,000, callback_id and
// external_id 255), methods/views.open (view_too_large beyond 250 kB),
// block-kit/blocks/input-block (label and hint 2,000),
// block-kit/block-elements/select-menu-element (100 options or option
// groups, placeholder 150, min_query_length defaults to 3),
// block-kit/composition-objects/option-object (text 75, value 150,
// description 75), block-kit/block-elements/plain-text-input-element
// (min_length and max_length up to 3,000; initial_value is held to the same).
const (
	maxViewBlocks         = 100
	maxViewTitle          = 24
	maxViewButton         = 24
	maxPrivateMetadata    = 3000
	maxCallbackID         = 255
	maxExternalID         = 255
	maxViewBytes          = 250 * 1024
	maxInputLabel         = 2000
	maxInputHint          = 2000
	maxPlaceholder        = 150
	maxSelectOptions      = 100
	maxOptionText         = 75
	maxOptionValue        = 150
	maxTextInputLength    = 3000
	defaultMinQueryLength = 3
)

// viewSpec is a view as an app sent it (views.open, views.update,
// views.publish or a response_action update), checked and normalized.
type viewSpec struct {
	typ                         string
	callbackID, privateMetadata string
	externalID                  string
	title, close, submit        json.RawMessage // nil when absent
	blocks                      json.RawMessage // block_id and action_id filled in
	clearOnClose, notifyOnClose bool
}

// parseView checks a view's JSON against Slack's limits and returns it as
// Slack stores it. Its errors are *blockError: view_too_large, or
// invalid_arguments with Slack-style messages.
func parseView(raw string) (viewSpec, error) {
	if len(raw) > maxViewBytes {
		return viewSpec{}, &blockError{code: "view_too_large"}
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil || v == nil {
		return viewSpec{}, &blockError{code: "invalid_arguments", messages: []string{"[ERROR] view must be a JSON object [json-pointer:/view]"}}
	}
	var c blockChecker
	var spec viewSpec
	spec.typ, _ = v["type"].(string)
	if spec.typ != "modal" && spec.typ != "home" {
		c.fail("/view/type", "must be one of modal, home")
	}
	for _, f := range []struct {
		name     string
		dst      *json.RawMessage
		required bool
	}{
		{"title", &spec.title, spec.typ == "modal"},
		{"close", &spec.close, false},
		{"submit", &spec.submit, false},
	} {
		t, ok := v[f.name].(map[string]any)
		if !ok {
			if f.required {
				c.fail("/view/"+f.name, "missing required field: %s", f.name)
			}
			continue
		}
		c.plainText("/view/"+f.name, t, maxViewButton)
		*f.dst, _ = json.Marshal(t)
	}
	for _, f := range []struct {
		name  string
		dst   *string
		limit int
	}{
		{"callback_id", &spec.callbackID, maxCallbackID},
		{"private_metadata", &spec.privateMetadata, maxPrivateMetadata},
		{"external_id", &spec.externalID, maxExternalID},
	} {
		*f.dst, _ = v[f.name].(string)
		c.maxLen("/view/"+f.name, *f.dst, f.limit)
	}
	spec.clearOnClose, _ = v["clear_on_close"].(bool)
	spec.notifyOnClose, _ = v["notify_on_close"].(bool)

	list, ok := v["blocks"].([]any)
	if !ok {
		c.fail("/view/blocks", "missing required field: blocks")
	}
	blocks := make([]map[string]any, len(list))
	hasInput := false
	for i, b := range list {
		blocks[i], _ = b.(map[string]any)
		if blocks[i] != nil && blocks[i]["type"] == "input" {
			hasInput = true
		}
	}
	c.blocks("/view/blocks", blocks, maxViewBlocks)
	if spec.typ == "modal" && hasInput && spec.submit == nil {
		c.fail("/view/submit", "must provide submit when the view has input blocks")
	}
	if len(c.messages) > 0 {
		return viewSpec{}, &blockError{code: "invalid_arguments", messages: c.messages}
	}
	for _, b := range blocks {
		for _, e := range blockElements(b) {
			if _, ok := e["action_id"].(string); !ok {
				e["action_id"] = randomID(5) // Slack names the elements an app left unnamed
			}
		}
	}
	spec.blocks, _ = json.Marshal(blocks)
	return spec, nil
}

// blockElements returns the interactive elements of a block: an input
// block's element, a section's accessory (not an image), an actions block's
// elements.
func blockElements(b map[string]any) []map[string]any {
	var out []map[string]any
	switch b["type"] {
	case "input":
		if e, ok := b["element"].(map[string]any); ok {
			out = append(out, e)
		}
	case "section":
		if e, ok := b["accessory"].(map[string]any); ok && e["type"] != "image" {
			out = append(out, e)
		}
	case "actions":
		list, _ := b["elements"].([]any)
		for _, x := range list {
			if e, ok := x.(map[string]any); ok {
				out = append(out, e)
			}
		}
	}
	return out
}

// plainText checks a text object that must be plain_text.
func (c *blockChecker) plainText(p string, t map[string]any, limit int) {
	if t["type"] != "plain_text" {
		c.fail(p+"/type", "must be plain_text")
	}
	c.textObject(p, t, limit)
}

// input checks an input block: a plain_text label, one element, a hint.
func (c *blockChecker) input(p string, b map[string]any) {
	if label, ok := b["label"].(map[string]any); ok {
		c.plainText(p+"/label", label, maxInputLabel)
	} else {
		c.fail(p+"/label", "missing required field: label")
	}
	if hint, ok := b["hint"].(map[string]any); ok {
		c.plainText(p+"/hint", hint, maxInputHint)
	}
	if _, ok := b["elements"]; ok {
		c.fail(p+"/elements", "input blocks take one element, in element")
	}
	if e, ok := b["element"].(map[string]any); ok {
		c.element(p+"/element", e, map[string]bool{})
	} else {
		c.fail(p+"/element", "missing required field: element")
	}
}

func (c *blockChecker) placeholder(p string, e map[string]any) {
	if t, ok := e["placeholder"].(map[string]any); ok {
		c.plainText(p+"/placeholder", t, maxPlaceholder)
	}
}

// staticSelect checks a select of static options: exactly one of options and
// option_groups, 1 to 100 of them, an initial_option among them.
func (c *blockChecker) staticSelect(p string, e map[string]any) {
	c.placeholder(p, e)
	opts, hasOpts := e["options"].([]any)
	groups, hasGroups := e["option_groups"].([]any)
	values := map[string]bool{}
	switch {
	case hasOpts == hasGroups:
		c.fail(p, "must provide exactly one of options, option_groups")
	case hasOpts:
		c.options(p+"/options", opts, values)
	default:
		if len(groups) == 0 || len(groups) > maxSelectOptions {
			c.fail(p+"/option_groups", "must have between 1 and %d items", maxSelectOptions)
		}
		for i, g := range groups {
			gp := fmt.Sprintf("%s/option_groups/%d", p, i)
			group, _ := g.(map[string]any)
			if label, ok := group["label"].(map[string]any); ok {
				c.plainText(gp+"/label", label, maxOptionText)
			} else {
				c.fail(gp+"/label", "missing required field: label")
			}
			list, _ := group["options"].([]any)
			c.options(gp+"/options", list, values)
		}
	}
	if io, ok := e["initial_option"].(map[string]any); ok {
		c.option(p+"/initial_option", io)
		if v, _ := io["value"].(string); len(values) > 0 && !values[v] {
			c.fail(p+"/initial_option", "must match one of the options")
		}
	}
}

// externalSelect checks a select whose options come from block_suggestion.
func (c *blockChecker) externalSelect(p string, e map[string]any) {
	c.placeholder(p, e)
	if raw, ok := e["min_query_length"]; ok {
		if n, isInt := jsonInt(raw); !isInt || n < 0 {
			c.fail(p+"/min_query_length", "must be an integer of at least 0")
		}
	}
	if io, ok := e["initial_option"].(map[string]any); ok {
		c.option(p+"/initial_option", io)
	}
}

// textInput checks a plain_text_input: initial_value, min_length and
// max_length within 3,000 characters.
func (c *blockChecker) textInput(p string, e map[string]any) {
	c.placeholder(p, e)
	if v, ok := e["initial_value"].(string); ok {
		c.maxLen(p+"/initial_value", v, maxTextInputLength)
	}
	lo, hi := 0, maxTextInputLength
	if raw, ok := e["min_length"]; ok {
		n, isInt := jsonInt(raw)
		if !isInt || n < 0 || n > maxTextInputLength {
			c.fail(p+"/min_length", "must be an integer between 0 and %d", maxTextInputLength)
		}
		lo = n
	}
	if raw, ok := e["max_length"]; ok {
		n, isInt := jsonInt(raw)
		if !isInt || n < 1 || n > maxTextInputLength {
			c.fail(p+"/max_length", "must be an integer between 1 and %d", maxTextInputLength)
		}
		hi = n
	}
	if lo > hi {
		c.fail(p+"/min_length", "must not be greater than max_length")
	}
}

// options checks a list of 1 to 100 options and collects their values.
func (c *blockChecker) options(p string, list []any, values map[string]bool) {
	if len(list) == 0 || len(list) > maxSelectOptions {
		c.fail(p, "must have between 1 and %d items", maxSelectOptions)
	}
	for i, o := range list {
		op := fmt.Sprintf("%s/%d", p, i)
		m, ok := o.(map[string]any)
		if !ok {
			c.fail(op, "must be an object")
			continue
		}
		c.option(op, m)
		v, _ := m["value"].(string)
		values[v] = true
	}
}

// option checks an option object of a select: plain_text text of at most 75
// characters, a value of at most 150, a description of at most 75.
func (c *blockChecker) option(p string, o map[string]any) {
	if t, ok := o["text"].(map[string]any); ok {
		c.plainText(p+"/text", t, maxOptionText)
	} else {
		c.fail(p+"/text", "missing required field: text")
	}
	if v, ok := o["value"].(string); ok {
		c.maxLen(p+"/value", v, maxOptionValue)
	} else {
		c.fail(p+"/value", "missing required field: value")
	}
	if d, ok := o["description"].(map[string]any); ok {
		c.plainText(p+"/description", d, maxOptionText)
	}
}

// jsonInt reads a JSON number decoded with UseNumber as an int.
func jsonInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil || i != int64(int(i)) {
		return 0, false
	}
	return int(i), true
}
