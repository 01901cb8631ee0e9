package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Response actions of a view_submission ack
// (https://docs.slack.dev/surfaces/modals).
const (
	ResponseActionClear  = "clear"
	ResponseActionErrors = "errors"
	ResponseActionUpdate = "update"
	ResponseActionPush   = "push"
)

// SubmitView presses Submit on the modal viewID of user and waits for the
// app's ack (SendViewSubmission, then WaitSubmission). An empty ack or
// response_action clear closes the modal; response_action errors keeps it
// open with the errors (Submission.Errors, View.Errors); response_action
// update replaces it. The error is non-nil when nothing could be sent (see
// SendViewSubmission), when ctx ends before the ack (Slack would tell the
// user it had trouble connecting and keep the modal open), or when the ack
// is one Slack cannot use (Submission.Problem).
func (s *Server) SubmitView(ctx context.Context, user, viewID string) (Submission, error) {
	id, err := s.SendViewSubmission(ctx, user, viewID)
	if err != nil {
		return Submission{}, err
	}
	return s.WaitSubmission(ctx, id)
}

// SubmitViewTwice is a double click on Submit: two view_submission
// envelopes, each with its own envelope_id and trigger_id but the same
// view (id, hash, state), sent one after the other (round robin, so two
// replicas may get one each) before either is acked. It waits for both
// acks. Each first ack applies in turn: once one has closed the modal, the
// other changes nothing.
func (s *Server) SubmitViewTwice(ctx context.Context, user, viewID string) ([2]Submission, error) {
	var out [2]Submission
	ids, err := s.sendSubmissions(ctx, user, viewID, 2)
	if err != nil {
		return out, err
	}
	var errs []error
	for i, id := range ids {
		sub, err := s.WaitSubmission(ctx, id)
		out[i] = sub
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// SendViewSubmission presses Submit on the modal viewID of user: a
// view_submission envelope (the view with state.values as Slack builds
// them: every element's typed text or chosen option, else its initial
// value; a trigger_id; response_urls []) goes to the next connection. It
// returns the envelope id once the frame is written; WaitSubmission gives
// the outcome. Like Slack's client it sends nothing for a modal without a
// Submit button, and returns a *FormError, sending nothing, while a
// required input is empty or a text breaks its min_length or max_length.
func (s *Server) SendViewSubmission(ctx context.Context, user, viewID string) (string, error) {
	ids, err := s.sendSubmissions(ctx, user, viewID, 1)
	if len(ids) == 0 {
		return "", err
	}
	return ids[0], err
}

func (s *Server) sendSubmissions(ctx context.Context, user, viewID string, n int) ([]string, error) {
	s.mu.Lock()
	if err := s.sendableLocked(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	v, err := s.openModalLocked(user, viewID)
	if err == nil && v.Submit == "" {
		err = fmt.Errorf("slacktest: modal %s has no Submit button", viewID)
	}
	if err == nil {
		err = formCheck(v)
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	envs := make([]*envelope, n)
	for i := range envs {
		payload, _ := json.Marshal(submissionPayload{
			Type: "view_submission", Team: payloadTeam{TeamID, TeamDomain}, User: s.payloadUserLocked(user),
			APIAppID: AppID, Token: VerificationToken, TriggerID: s.triggerIDLocked(user),
			View: v.wire(), ResponseURLs: []any{}, Enterprise: json.RawMessage("null"),
		})
		env := s.newEnvelopeLocked(TypeInteractive, payload, true, nil)
		sub := &Submission{EnvelopeID: env.id, ViewID: v.ID, User: user, Hash: v.Hash,
			Values: cloneState(v.State), Payload: payload, SentAt: time.Now()}
		s.vs.subs[env.id] = sub
		v.subIDs = append(v.subIDs, env.id)
		env.onFirstAck = func(p json.RawMessage) { s.applySubmissionAckLocked(v, sub, p) }
		envs[i] = env
	}
	s.publishViewLocked(v)
	s.mu.Unlock()

	ids := make([]string, 0, n)
	for _, env := range envs {
		s.mu.Lock()
		id, err := s.sendLocked(ctx, env, false)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// formCheck is what Slack's client checks before it submits a form: every
// input block not marked optional has a value, and text lengths are within
// min_length and max_length.
func formCheck(v *view) error {
	errs := map[string]string{}
	for _, b := range decodeBlockList(v.Blocks) {
		vb := blockFrom(b)
		if vb.Type != "input" || len(vb.Elements) == 0 {
			continue
		}
		el := vb.Elements[0]
		sv, modelled := v.State[vb.BlockID][el.ActionID]
		if !modelled {
			continue
		}
		n := textLen(sv.Value)
		switch {
		case !vb.Optional && sv.Value == "" && sv.Selected == nil:
			errs[vb.BlockID] = "This field is required."
		case sv.Value != "" && el.MinLength > 0 && n < el.MinLength:
			errs[vb.BlockID] = fmt.Sprintf("Enter at least %d characters.", el.MinLength)
		case el.MaxLength > 0 && n > el.MaxLength:
			errs[vb.BlockID] = fmt.Sprintf("Enter at most %d characters.", el.MaxLength)
		}
	}
	if len(errs) > 0 {
		return &FormError{ViewID: v.ID, Errors: errs}
	}
	return nil
}

// applySubmissionAckLocked does what the first ack of a view_submission
// asks of the modal v.
func (s *Server) applySubmissionAckLocked(v *view, sub *Submission, p json.RawMessage) {
	defer s.publishViewLocked(v)
	sub.Acked = true
	if len(p) == 0 || string(p) == "null" {
		p = nil
	}
	sub.Ack = p
	var r struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if p != nil && json.Unmarshal(p, &r) != nil {
		sub.Problem = "the ack payload is not a response_action object"
		return
	}
	sub.ResponseAction, sub.Errors = r.ResponseAction, r.Errors
	if !v.Open {
		return // a double click whose twin closed the modal, or the user closed it
	}
	switch r.ResponseAction {
	case "", ResponseActionClear:
		v.Open, v.ClosedBy, sub.Closed = false, ClosedBySubmit, true
	case ResponseActionErrors:
		inputs := map[string]bool{}
		for _, b := range decodeBlockList(v.Blocks) {
			if b["type"] == "input" {
				id, _ := b["block_id"].(string)
				inputs[id] = true
			}
		}
		var bad []string
		for k := range r.Errors {
			if !inputs[k] {
				bad = append(bad, k)
			}
		}
		switch {
		case len(r.Errors) == 0:
			sub.Problem = "response_action errors without errors"
		case len(bad) > 0:
			slices.Sort(bad)
			sub.Problem = fmt.Sprintf("errors for %q, which are not input blocks of the view", bad)
		default:
			v.Errors = maps.Clone(r.Errors)
		}
	case ResponseActionUpdate:
		spec, err := parseView(string(r.View))
		switch {
		case err != nil:
			sub.Problem = fmt.Sprintf("response_action update with an invalid view: %v %v", err, blockMessages(err))
		case spec.typ != ViewModal:
			sub.Problem = "response_action update with a view that is not a modal"
		default:
			s.updateViewLocked(v, spec, time.Now())
		}
	case ResponseActionPush:
		sub.Problem = "response_action push is not modelled by the fake"
	default:
		sub.Problem = fmt.Sprintf("unknown response_action %q", r.ResponseAction)
	}
}

func blockMessages(err error) []string {
	var be *blockError
	if errors.As(err, &be) {
		return be.messages
	}
	return nil
}

// WaitSubmission waits for the first ack of the view_submission envelopeID
// and returns the submission with what the ack did. The error is non-nil
// when ctx ends first or the ack was one Slack cannot use
// (Submission.Problem).
func (s *Server) WaitSubmission(ctx context.Context, envelopeID string) (Submission, error) {
	var sub Submission
	known := true
	err := s.wait(ctx, func() bool {
		p, ok := s.vs.subs[envelopeID]
		known = ok
		if ok && p.Acked {
			sub = *p
		}
		return !ok || p.Acked
	}, nil)
	switch {
	case err != nil:
		return sub, fmt.Errorf("slacktest: view_submission %s not acked: %w", envelopeID, err)
	case !known:
		return sub, fmt.Errorf("slacktest: no view_submission %q", envelopeID)
	case sub.Problem != "":
		return sub, fmt.Errorf("slacktest: view_submission %s: %s", envelopeID, sub.Problem)
	}
	return sub, nil
}
