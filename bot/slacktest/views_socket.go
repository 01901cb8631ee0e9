package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Errors of the user's side of a modal.
var (
	// ErrNotDispatched: the user chose an option in an input block without
	// dispatch_action, so Slack sends no block_actions; the choice only
	// shows in the state of a later payload.
	ErrNotDispatched = errors.New("slacktest: input block has no dispatch_action: Slack sends no block_actions")
	// ErrBelowMinQueryLength: the user typed fewer characters than the
	// external_select's min_query_length (3 when unset), so Slack does not
	// ask the app for options.
	ErrBelowMinQueryLength = errors.New("slacktest: typed text is shorter than min_query_length: Slack sends no block_suggestion")
)

// FormError is a submission Slack's client refuses before sending anything:
// a required input left empty, a text shorter than its min_length or
// longer than its max_length. Errors maps block_id to what Slack shows.
type FormError struct {
	ViewID string
	Errors map[string]string
}

func (e *FormError) Error() string {
	keys := slices.Sorted(maps.Keys(e.Errors))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Errors[k]
	}
	return fmt.Sprintf("slacktest: Slack does not submit view %s: %s", e.ViewID, strings.Join(parts, "; "))
}

// viewContainer is the container of a payload from a view.
type viewContainer struct {
	Type   string `json:"type"`
	ViewID string `json:"view_id"`
}

// viewActionsPayload is a block_actions payload from a modal. Unlike one
// from a message it has no top-level state: the state travels in the view
// (view.state.values), as real payloads show, so slack-go's
// InteractionCallback.BlockActionState is nil and an app reads View.State.
type viewActionsPayload struct {
	Type                string           `json:"type"`
	User                payloadUser      `json:"user"`
	APIAppID            string           `json:"api_app_id"`
	Token               string           `json:"token"`
	Container           viewContainer    `json:"container"`
	TriggerID           string           `json:"trigger_id"`
	Team                payloadTeam      `json:"team"`
	Enterprise          json.RawMessage  `json:"enterprise"`
	IsEnterpriseInstall bool             `json:"is_enterprise_install"`
	View                wireView         `json:"view"`
	Actions             []map[string]any `json:"actions"`
}

// suggestionPayload is a block_suggestion payload: no trigger_id.
type suggestionPayload struct {
	Type                string          `json:"type"`
	User                payloadUser     `json:"user"`
	Container           viewContainer   `json:"container"`
	APIAppID            string          `json:"api_app_id"`
	Token               string          `json:"token"`
	ActionID            string          `json:"action_id"`
	BlockID             string          `json:"block_id"`
	Value               string          `json:"value"`
	Team                payloadTeam     `json:"team"`
	Enterprise          json.RawMessage `json:"enterprise"`
	IsEnterpriseInstall bool            `json:"is_enterprise_install"`
	View                wireView        `json:"view"`
}

// submissionPayload is a view_submission payload.
type submissionPayload struct {
	Type                string          `json:"type"`
	Team                payloadTeam     `json:"team"`
	User                payloadUser     `json:"user"`
	APIAppID            string          `json:"api_app_id"`
	Token               string          `json:"token"`
	TriggerID           string          `json:"trigger_id"`
	View                wireView        `json:"view"`
	ResponseURLs        []any           `json:"response_urls"`
	IsEnterpriseInstall bool            `json:"is_enterprise_install"`
	Enterprise          json.RawMessage `json:"enterprise"`
}

// closedPayload is a view_closed payload.
type closedPayload struct {
	Type                string          `json:"type"`
	Team                payloadTeam     `json:"team"`
	User                payloadUser     `json:"user"`
	APIAppID            string          `json:"api_app_id"`
	Token               string          `json:"token"`
	View                wireView        `json:"view"`
	IsCleared           bool            `json:"is_cleared"`
	IsEnterpriseInstall bool            `json:"is_enterprise_install"`
	Enterprise          json.RawMessage `json:"enterprise"`
}

// suggestResult is the app's answer to a block_suggestion.
type suggestResult struct {
	acked   bool
	options []Option
	problem string
}

func (s *Server) payloadUserLocked(user string) payloadUser {
	name := s.userNameLocked(user)
	return payloadUser{user, name, name, TeamID}
}

func suggestKey(blockID, actionID string) string { return blockID + "\x00" + actionID }

// SendBlockSuggestion types typed into the external_select with actionID in
// the modal viewID of user: Slack sends a block_suggestion (action_id,
// block_id, value, the view) and shows the options of the app's ack, which
// this returns. It fails when the text is shorter than the element's
// min_query_length (ErrBelowMinQueryLength, nothing sent), when ctx ends
// before the ack (Slack gives up after 3 s; the caller picks its wait),
// and when the ack has no options or option_groups or breaks their limits.
// An empty list is an answer: no matches.
func (s *Server) SendBlockSuggestion(ctx context.Context, user, viewID, actionID, typed string) ([]Option, error) {
	s.mu.Lock()
	if err := s.sendableLocked(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	v, blockID, el, err := s.externalSelectLocked(user, viewID, actionID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	minLen := defaultMinQueryLength
	if el.MinQueryLength != nil {
		minLen = *el.MinQueryLength
	}
	if textLen(typed) < minLen {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w (%q, min_query_length %d)", ErrBelowMinQueryLength, typed, minLen)
	}
	payload, _ := json.Marshal(suggestionPayload{
		Type: "block_suggestion", User: s.payloadUserLocked(user),
		Container: viewContainer{"view", v.ID}, APIAppID: AppID, Token: VerificationToken,
		ActionID: actionID, BlockID: blockID, Value: typed, Team: payloadTeam{TeamID, TeamDomain},
		Enterprise: json.RawMessage("null"), View: v.wire(),
	})
	env := s.newEnvelopeLocked(TypeInteractive, payload, true, nil)
	res := &suggestResult{}
	s.vs.options[env.id] = res
	env.onFirstAck = func(p json.RawMessage) {
		res.acked = true
		res.options, res.problem = parseOptionsAck(p)
		if res.problem == "" {
			v.suggested[suggestKey(blockID, actionID)] = res.options
		}
	}
	id, err := s.sendLocked(ctx, env, false)
	if err != nil {
		return nil, err
	}
	if _, err := s.WaitAck(ctx, id); err != nil {
		return nil, fmt.Errorf("slacktest: block_suggestion %s not acked: %w", id, err)
	}
	s.mu.Lock()
	r := *res
	s.mu.Unlock()
	if r.problem != "" {
		return nil, fmt.Errorf("slacktest: block_suggestion %s: %s", id, r.problem)
	}
	return r.options, nil
}

// externalSelectLocked finds the external_select with actionID in an open
// modal of user; the action_id must name one element of the view.
func (s *Server) externalSelectLocked(user, viewID, actionID string) (*view, string, ViewElement, error) {
	v, err := s.openModalLocked(user, viewID)
	if err != nil {
		return nil, "", ViewElement{}, err
	}
	var found []string
	var el ViewElement
	for _, b := range decodeBlockList(v.Blocks) {
		vb := blockFrom(b)
		if e, ok := vb.Element(actionID); ok {
			found, el = append(found, vb.BlockID), e
		}
	}
	switch {
	case len(found) == 0:
		return nil, "", el, fmt.Errorf("slacktest: view %s has no element %q", viewID, actionID)
	case len(found) > 1:
		return nil, "", el, fmt.Errorf("slacktest: action_id %q is in blocks %q of view %s", actionID, found, viewID)
	case el.Type != "external_select":
		return nil, "", el, fmt.Errorf("slacktest: element %q of view %s is a %s, not an external_select", actionID, viewID, el.Type)
	}
	return v, found[0], el, nil
}

// parseOptionsAck reads the options of a block_suggestion ack: options or
// option_groups, each within Slack's limits. It returns why Slack would
// show the user nothing when they are not.
func parseOptionsAck(p json.RawMessage) ([]Option, string) {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(p)))
	dec.UseNumber()
	if len(p) == 0 || dec.Decode(&m) != nil || m == nil {
		return nil, "the ack carried no options"
	}
	list, hasOpts := m["options"].([]any)
	groups, hasGroups := m["option_groups"].([]any)
	var c blockChecker
	values := map[string]bool{}
	var out []Option
	switch {
	case hasOpts && hasGroups:
		return nil, "the ack has both options and option_groups"
	case hasOpts:
		if len(list) > 0 {
			c.options("/options", list, values)
		}
		out = appendOptions([]Option{}, list, "")
	case hasGroups:
		if len(groups) > maxSelectOptions {
			c.fail("/option_groups", "no more than %d items allowed", maxSelectOptions)
		}
		out = []Option{}
		for i, g := range groups {
			p := fmt.Sprintf("/option_groups/%d", i)
			group, _ := g.(map[string]any)
			if label, ok := group["label"].(map[string]any); ok {
				c.plainText(p+"/label", label, maxOptionText)
			} else {
				c.fail(p+"/label", "missing required field: label")
			}
			opts, _ := group["options"].([]any)
			c.options(p+"/options", opts, values)
			out = appendOptions(out, opts, textOf(group["label"]))
		}
	default:
		return nil, "the ack carried no options or option_groups"
	}
	if len(c.messages) > 0 {
		return nil, "invalid options: " + strings.Join(c.messages, "; ")
	}
	return out, ""
}

// SendViewAction chooses the option with selectedValue in the select
// blockID/actionID of the modal viewID of user (or clicks the button there;
// selectedValue is then ignored). The fake's state of the element changes
// as Slack's does, then Slack sends block_actions from the view: container
// type view, the view with its state, a trigger_id, the action with its
// selected_option. A static_select's option must be one of its options; an
// external_select's one of the last options the app suggested for it
// (SendBlockSuggestion) or its initial_option. In an input block without
// dispatch_action, the state changes but nothing is sent (ErrNotDispatched).
// It returns the envelope id once the frame is written.
func (s *Server) SendViewAction(ctx context.Context, user, viewID, blockID, actionID, selectedValue string) (string, error) {
	s.mu.Lock()
	v, b, el, err := s.findViewElementLocked(user, viewID, blockID, actionID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	action := map[string]any{"type": el.Type, "action_id": actionID, "block_id": blockID}
	var chosen *Option
	switch el.Type {
	case "button":
		action["text"] = map[string]any{"type": "plain_text", "text": el.Text, "emoji": true}
		if el.Value != "" {
			action["value"] = el.Value
		}
	case "static_select", "external_select":
		offered := el.Options
		if el.Type == "external_select" {
			offered = v.suggested[suggestKey(blockID, actionID)]
		}
		if el.InitialOption != nil {
			offered = append(slices.Clip(offered), *el.InitialOption)
		}
		i := slices.IndexFunc(offered, func(o Option) bool { return o.Value == selectedValue })
		if i < 0 {
			s.mu.Unlock()
			return "", fmt.Errorf("slacktest: %s %q of view %s offers no option %q (offered: %v)", el.Type, actionID, viewID, selectedValue, offered)
		}
		chosen = &Option{Text: offered[i].Text, Value: offered[i].Value}
		action["selected_option"] = chosen.wire()
		if el.InitialOption != nil {
			action["initial_option"] = el.InitialOption.wire()
		}
		if el.Placeholder != "" {
			action["placeholder"] = map[string]any{"type": "plain_text", "text": el.Placeholder, "emoji": true}
		}
		if v.State[blockID] == nil {
			v.State[blockID] = map[string]StateValue{}
		}
		v.State[blockID][actionID] = StateValue{Type: el.Type, Selected: chosen}
		s.publishViewLocked(v)
	default:
		s.mu.Unlock()
		return "", fmt.Errorf("slacktest: SendViewAction does not model a %s", el.Type)
	}
	if b.Type == "input" && !b.DispatchAction {
		s.mu.Unlock()
		return "", fmt.Errorf("%w (block %q of view %s)", ErrNotDispatched, blockID, viewID)
	}
	return s.sendViewActionLocked(ctx, user, v, action)
}

// SetViewInput types value into the text input blockID/actionID of the open
// modal viewID, replacing what was there. Slack sends nothing for typing;
// the text shows in the state of later payloads.
func (s *Server) SetViewInput(viewID, blockID, actionID, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vs.byID[viewID]
	if !ok {
		return fmt.Errorf("slacktest: no modal %q", viewID)
	}
	v, _, el, err := s.findViewElementLocked(v.User, viewID, blockID, actionID)
	if err != nil {
		return err
	}
	if !textInputTypes[el.Type] {
		return fmt.Errorf("slacktest: element %q of view %s is a %s, not a text input", actionID, viewID, el.Type)
	}
	v.State[blockID][actionID] = StateValue{Type: el.Type, Value: value}
	s.publishViewLocked(v)
	return nil
}

// CloseView is the user closing the modal viewID (Close, or the X). Slack
// sends view_closed only when the view asked for it (notify_on_close); the
// envelope id is then returned, else "".
func (s *Server) CloseView(ctx context.Context, user, viewID string) (string, error) {
	s.mu.Lock()
	v, err := s.openModalLocked(user, viewID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	v.Open, v.ClosedBy = false, ClosedByUser
	s.publishViewLocked(v)
	if !v.NotifyOnClose {
		s.mu.Unlock()
		return "", nil
	}
	if err := s.sendableLocked(); err != nil {
		s.mu.Unlock()
		return "", err
	}
	payload, _ := json.Marshal(closedPayload{
		Type: "view_closed", Team: payloadTeam{TeamID, TeamDomain}, User: s.payloadUserLocked(user),
		APIAppID: AppID, Token: VerificationToken, View: v.wire(), Enterprise: json.RawMessage("null"),
	})
	env := s.newEnvelopeLocked(TypeInteractive, payload, false, nil)
	return s.sendLocked(ctx, env, false)
}

// sendViewActionLocked sends, as Slack does, a block_actions envelope for
// action on view v of user: container type view, the view with its state,
// a fresh trigger_id. The caller holds s.mu; sendLocked releases it.
func (s *Server) sendViewActionLocked(ctx context.Context, user string, v *view, action map[string]any) (string, error) {
	if err := s.sendableLocked(); err != nil {
		s.mu.Unlock()
		return "", err
	}
	action["action_ts"] = s.nextTSLocked()
	payload, _ := json.Marshal(viewActionsPayload{
		Type: "block_actions", User: s.payloadUserLocked(user), APIAppID: AppID, Token: VerificationToken,
		Container: viewContainer{"view", v.ID}, TriggerID: s.triggerIDLocked(user),
		Team: payloadTeam{TeamID, TeamDomain}, Enterprise: json.RawMessage("null"),
		View: v.wire(), Actions: []map[string]any{action},
	})
	env := s.newEnvelopeLocked(TypeInteractive, payload, false, nil)
	return s.sendLocked(ctx, env, false)
}
