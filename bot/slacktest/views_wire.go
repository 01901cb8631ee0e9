package slacktest

import (
	"bytes"
	"encoding/json"
)

// wireView is a view object as the Web API answers it and payloads carry it.
type wireView struct {
	ID                 string          `json:"id"`
	TeamID             string          `json:"team_id"`
	Type               string          `json:"type"`
	Blocks             json.RawMessage `json:"blocks"`
	PrivateMetadata    string          `json:"private_metadata"`
	CallbackID         string          `json:"callback_id"`
	State              wireState       `json:"state"`
	Hash               string          `json:"hash"`
	Title              json.RawMessage `json:"title,omitempty"`
	ClearOnClose       bool            `json:"clear_on_close"`
	NotifyOnClose      bool            `json:"notify_on_close"`
	Close              json.RawMessage `json:"close"`
	Submit             json.RawMessage `json:"submit"`
	PreviousViewID     *string         `json:"previous_view_id"`
	RootViewID         string          `json:"root_view_id"`
	AppID              string          `json:"app_id"`
	ExternalID         string          `json:"external_id"`
	AppInstalledTeamID string          `json:"app_installed_team_id"`
	BotID              string          `json:"bot_id"`
}

type wireState struct {
	Values map[string]map[string]any `json:"values"`
}

func (v *view) wire() wireView {
	return wireView{
		ID: v.ID, TeamID: TeamID, Type: v.Type, Blocks: v.Blocks,
		PrivateMetadata: v.PrivateMetadata, CallbackID: v.CallbackID,
		State: wireStateOf(v.State), Hash: v.Hash, Title: v.spec.title,
		ClearOnClose: v.ClearOnClose, NotifyOnClose: v.NotifyOnClose,
		Close: orNull(v.spec.close), Submit: orNull(v.spec.submit),
		RootViewID: v.ID, AppID: AppID, ExternalID: v.ExternalID,
		AppInstalledTeamID: TeamID, BotID: BotID,
	}
}

// orNull is raw, or JSON null when it is empty: Slack sends "submit": null
// for a modal without a Submit button.
func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

func wireStateOf(st map[string]map[string]StateValue) wireState {
	w := wireState{Values: map[string]map[string]any{}}
	for blockID, byAction := range st {
		w.Values[blockID] = map[string]any{}
		for actionID, sv := range byAction {
			w.Values[blockID][actionID] = sv.wire()
		}
	}
	return w
}

// wire renders a state value as Slack does: null for no text or no choice.
func (sv StateValue) wire() map[string]any {
	m := map[string]any{"type": sv.Type}
	switch {
	case textInputTypes[sv.Type]:
		m["value"] = nil
		if sv.Value != "" {
			m["value"] = sv.Value
		}
	case selectTypes[sv.Type]:
		m["selected_option"] = nil
		if sv.Selected != nil {
			m["selected_option"] = sv.Selected.wire()
		}
	}
	return m
}

func (o Option) wire() map[string]any {
	return map[string]any{
		"text":  map[string]any{"type": "plain_text", "text": o.Text, "emoji": true},
		"value": o.Value,
	}
}

// The stateful elements the fake models: their state.values entries carry
// "value" (text inputs) or "selected_option" (single selects).
var (
	textInputTypes = map[string]bool{"plain_text_input": true, "email_text_input": true, "url_text_input": true, "number_input": true}
	selectTypes    = map[string]bool{"static_select": true, "external_select": true}
)

// initialState is the state of freshly shown blocks: every modelled element
// with its initial value or option.
func initialState(blocks json.RawMessage) map[string]map[string]StateValue {
	st := map[string]map[string]StateValue{}
	for _, b := range decodeBlockList(blocks) {
		blockID, _ := b["block_id"].(string)
		for _, e := range blockElements(b) {
			el := elementFrom(e)
			if !textInputTypes[el.Type] && !selectTypes[el.Type] {
				continue
			}
			if st[blockID] == nil {
				st[blockID] = map[string]StateValue{}
			}
			st[blockID][el.ActionID] = StateValue{Type: el.Type, Value: el.InitialValue, Selected: el.InitialOption}
		}
	}
	return st
}

func decodeBlockList(raw json.RawMessage) []map[string]any {
	var bs []map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if len(raw) == 0 || dec.Decode(&bs) != nil {
		return nil
	}
	return bs
}

func blockFrom(b map[string]any) ViewBlock {
	vb := ViewBlock{}
	vb.BlockID, _ = b["block_id"].(string)
	vb.Type, _ = b["type"].(string)
	vb.Label = textOf(b["label"])
	vb.Optional, _ = b["optional"].(bool)
	vb.DispatchAction, _ = b["dispatch_action"].(bool)
	for _, e := range blockElements(b) {
		vb.Elements = append(vb.Elements, elementFrom(e))
	}
	vb.Raw, _ = json.Marshal(b)
	return vb
}

func elementFrom(e map[string]any) ViewElement {
	el := ViewElement{}
	el.ActionID, _ = e["action_id"].(string)
	el.Type, _ = e["type"].(string)
	el.Text = textOf(e["text"])
	el.Value, _ = e["value"].(string)
	el.Placeholder = textOf(e["placeholder"])
	el.InitialValue, _ = e["initial_value"].(string)
	if io, ok := e["initial_option"].(map[string]any); ok {
		o := optionFrom(io, "")
		el.InitialOption = &o
	}
	if list, ok := e["options"].([]any); ok {
		el.Options = appendOptions(el.Options, list, "")
	}
	if groups, ok := e["option_groups"].([]any); ok {
		for _, g := range groups {
			group, _ := g.(map[string]any)
			list, _ := group["options"].([]any)
			el.Options = appendOptions(el.Options, list, textOf(group["label"]))
		}
	}
	if n, ok := jsonInt(e["min_query_length"]); ok {
		el.MinQueryLength = &n
	}
	el.Multiline, _ = e["multiline"].(bool)
	el.MinLength, _ = jsonInt(e["min_length"])
	el.MaxLength, _ = jsonInt(e["max_length"])
	el.Raw, _ = json.Marshal(e)
	return el
}

func appendOptions(out []Option, list []any, group string) []Option {
	for _, o := range list {
		if m, ok := o.(map[string]any); ok {
			out = append(out, optionFrom(m, group))
		}
	}
	return out
}

func optionFrom(m map[string]any, group string) Option {
	v, _ := m["value"].(string)
	return Option{Text: textOf(m["text"]), Value: v, Group: group}
}

// textOf returns the text of a text object, "" for anything else.
func textOf(x any) string {
	m, _ := x.(map[string]any)
	t, _ := m["text"].(string)
	return t
}

func textOfRaw(raw json.RawMessage) string {
	var t struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &t)
	return t.Text
}
