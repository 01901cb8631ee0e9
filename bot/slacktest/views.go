package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

// View types, as in a view's "type".
const (
	ViewModal = "modal"
	ViewHome  = "home"
)

// How a modal was closed, in View.ClosedBy.
const (
	// ClosedBySubmit: the app acked a view_submission with no payload or with
	// response_action clear.
	ClosedBySubmit = "submit"
	// ClosedByUser: the user pressed Close or the X (CloseView).
	ClosedByUser = "user"
)

// View is a snapshot of a modal or a home tab, as the fake stores it.
type View struct {
	ID         string
	ExternalID string
	Type       string // ViewModal or ViewHome
	// User is whom the modal was opened for (the user of its trigger_id) or
	// whose home tab it is.
	User            string
	CallbackID      string
	PrivateMetadata string
	// Hash changes with every views.update (or response_action update);
	// a views.update with an older one fails with hash_conflict.
	Hash string
	// Title, Submit and Close are the texts of the modal's title and buttons;
	// "" when absent (a modal without Submit cannot be submitted).
	Title, Submit, Close string
	// Blocks are as Slack stores them: block_id and action_id filled in.
	Blocks        json.RawMessage
	NotifyOnClose bool
	ClearOnClose  bool
	// TriggerID is the trigger views.open exchanged; "" for a home tab.
	TriggerID string
	// Open is true while the modal is on the user's screen; a home tab is
	// always open.
	Open bool
	// ClosedBy says how a closed modal was closed (ClosedBySubmit, ClosedByUser).
	ClosedBy string
	// State is what the user sees in the form's elements, keyed block_id, then
	// action_id: typed text, chosen options, else the elements' initial values.
	State map[string]map[string]StateValue
	// Errors are those of the last view_submission ack with response_action
	// errors (block_id -> message); nil once the modal has been updated.
	Errors map[string]string
	// Updates counts views.update calls and response_action updates applied.
	Updates int
	// Submissions are the view_submissions sent for the modal, in order.
	Submissions []Submission
	OpenedAt    time.Time
	UpdatedAt   time.Time
}

// StateValue is the value of one element of a view, as its state.values
// entry carries it.
type StateValue struct {
	Type string // the element's type: plain_text_input, static_select, …
	// Value is a text input's text; Slack sends "" as null.
	Value string
	// Selected is a select's chosen option; nil is sent as null.
	Selected *Option
}

// Option is an option of a select.
type Option struct {
	Text  string
	Value string
	// Group is the label of the option's group when the options came in
	// option_groups.
	Group string
}

// ViewBlock is one block of a view, with what tests usually look at.
type ViewBlock struct {
	BlockID        string
	Type           string
	Label          string // of an input block
	Optional       bool   // an input block the user may leave empty
	DispatchAction bool   // an input block whose element sends block_actions
	// Elements are an input block's element, a section's accessory or an
	// actions block's elements.
	Elements []ViewElement
	Raw      json.RawMessage
}

// ViewElement is an interactive element of a view.
type ViewElement struct {
	ActionID      string
	Type          string
	Text, Value   string // a button's text and value
	Placeholder   string
	InitialValue  string  // plain_text_input
	InitialOption *Option // selects
	// Options are a static_select's options, option_groups flattened (each
	// with its Group).
	Options []Option
	// MinQueryLength is an external_select's min_query_length; nil when
	// unset, and Slack then waits for 3 characters.
	MinQueryLength       *int
	Multiline            bool
	MinLength, MaxLength int // plain_text_input; 0 when unset
	Raw                  json.RawMessage
}

// Block returns the block with blockID.
func (v View) Block(blockID string) (ViewBlock, bool) {
	for _, b := range decodeBlockList(v.Blocks) {
		if b["block_id"] == blockID {
			return blockFrom(b), true
		}
	}
	return ViewBlock{}, false
}

// Element returns the element with actionID in the block with blockID.
func (v View) Element(blockID, actionID string) (ViewElement, bool) {
	b, ok := v.Block(blockID)
	if !ok {
		return ViewElement{}, false
	}
	return b.Element(actionID)
}

// Value returns the current state of an element (zero if it has none).
func (v View) Value(blockID, actionID string) StateValue {
	return v.State[blockID][actionID]
}

// Element returns the block's element with actionID.
func (b ViewBlock) Element(actionID string) (ViewElement, bool) {
	for _, e := range b.Elements {
		if e.ActionID == actionID {
			return e, true
		}
	}
	return ViewElement{}, false
}

// Submission is one view_submission the fake sent, and what the app's ack
// did with it.
type Submission struct {
	EnvelopeID string
	ViewID     string
	User       string
	Hash       string // the view's hash when it was submitted
	// Values is the state.values the payload carried.
	Values  map[string]map[string]StateValue
	Payload json.RawMessage
	SentAt  time.Time
	Acked   bool
	// Ack is the payload of the first ack; nil for an empty ack.
	Ack json.RawMessage
	// ResponseAction is the ack's response_action ("" for an empty ack).
	ResponseAction string
	// Errors are the ack's errors (response_action errors): block_id -> message.
	Errors map[string]string
	// Closed is true when this ack closed the modal.
	Closed bool
	// Problem says why Slack would have shown the user "We had some trouble
	// connecting" instead of doing what the ack asked: an errors key that is
	// not an input block of the view, an update with an invalid view, a push,
	// a payload that is not JSON. "" when the ack was good.
	Problem string
}

// view is the stored form of a View.
type view struct {
	View
	idx    int      // in viewStore.order
	spec   viewSpec // the view as last set by the app
	subIDs []string // envelope ids of its submissions, in viewStore.subs
	// suggested holds the options of the last block_suggestion answer of
	// each external_select (block_id + "\x00" + action_id), which are the
	// options the user can then choose.
	suggested map[string][]Option
}

// trigger is a trigger_id the fake issued with an envelope.
type trigger struct {
	user   string
	issued time.Time
	used   bool
}

// viewStore is the fake's state of views.
type viewStore struct {
	byID      map[string]*view
	order     []*view
	published []*View // immutable copies of order, for snapshots
	external  map[string]*view
	homes     map[string]*view // user -> home tab
	triggers  map[string]*trigger
	subs      map[string]*Submission    // envelope id -> submission
	options   map[string]*suggestResult // envelope id -> block_suggestion answer
}

func newViewStore() viewStore {
	return viewStore{
		byID:     map[string]*view{},
		external: map[string]*view{},
		homes:    map[string]*view{},
		triggers: map[string]*trigger{},
		subs:     map[string]*Submission{},
		options:  map[string]*suggestResult{},
	}
}

// publishViewLocked makes the current state of v what snapshots see.
func (s *Server) publishViewLocked(v *view) {
	c := v.View
	c.State = cloneState(v.State)
	c.Errors = maps.Clone(v.Errors)
	c.Submissions = make([]Submission, len(v.subIDs))
	for i, id := range v.subIDs {
		c.Submissions[i] = *s.vs.subs[id]
	}
	if v.idx == len(s.vs.published) {
		s.vs.published = append(s.vs.published, &c)
	} else {
		s.vs.published[v.idx] = &c
	}
	s.notifyLocked()
}

func cloneState(st map[string]map[string]StateValue) map[string]map[string]StateValue {
	if st == nil {
		return nil
	}
	out := make(map[string]map[string]StateValue, len(st))
	for k, v := range st {
		out[k] = maps.Clone(v)
	}
	return out
}

// View returns the view with id.
func (s *Server) View(id string) (View, bool) { return s.Snapshot().View(id) }

// OpenViews returns the modals open on user's screen, oldest first.
func (s *Server) OpenViews(user string) []View { return s.Snapshot().OpenViews(user) }

// HomeView returns the home tab last published for user.
func (s *Server) HomeView(user string) (View, bool) { return s.Snapshot().HomeView(user) }

// WaitView waits until a view (modal or home tab) satisfies pred and returns
// it; pred is evaluated after every recorded change.
func (s *Server) WaitView(ctx context.Context, pred func(View) bool) (View, error) {
	var found View
	err := s.Wait(ctx, func(snap *Snapshot) bool {
		for _, v := range snap.views {
			if pred(*v) {
				found = *v
				return true
			}
		}
		return false
	})
	return found, err
}

// View returns the view with id.
func (snap *Snapshot) View(id string) (View, bool) {
	for _, v := range snap.views {
		if v.ID == id {
			return *v, true
		}
	}
	return View{}, false
}

// Views returns every modal and home tab, in the order they were created.
func (snap *Snapshot) Views() []View { return deref(snap.views) }

// OpenViews returns the modals open on user's screen, oldest first.
func (snap *Snapshot) OpenViews(user string) []View {
	var out []View
	for _, v := range snap.views {
		if v.Type == ViewModal && v.Open && v.User == user {
			out = append(out, *v)
		}
	}
	return out
}

// HomeView returns the home tab last published for user.
func (snap *Snapshot) HomeView(user string) (View, bool) {
	for _, v := range snap.views {
		if v.Type == ViewHome && v.User == user {
			return *v, true
		}
	}
	return View{}, false
}

// applySpecLocked makes spec the content of v: a new hash, and a state
// rebuilt from the new blocks' initial values.
//
// Real Slack keeps what a person typed or chose in an element whose block_id
// and action_id an update leaves unchanged, unless the new view sets an
// initial value for it. The fake does not: after an update the form shows
// the new view's initial values only, so an app must carry what it wants to
// keep (a chosen package, typed variables) into its update.
func (s *Server) applySpecLocked(v *view, spec viewSpec, now time.Time) {
	v.Type = spec.typ
	v.CallbackID = spec.callbackID
	v.PrivateMetadata = spec.privateMetadata
	v.Title, v.Submit, v.Close = textOfRaw(spec.title), textOfRaw(spec.submit), textOfRaw(spec.close)
	v.Blocks = spec.blocks
	v.NotifyOnClose, v.ClearOnClose = spec.notifyOnClose, spec.clearOnClose
	v.Hash = fmt.Sprintf("%d.%s", now.Unix(), randomID(8))
	v.State = initialState(spec.blocks)
	v.UpdatedAt = now
	if spec.externalID != "" { // an update without one keeps the view's
		delete(s.vs.external, v.ExternalID)
		v.ExternalID = spec.externalID
		s.vs.external[spec.externalID] = v
	}
	v.spec = spec
}

// findViewElementLocked finds the element blockID/actionID of an open modal
// of user. It returns the stored view, the block and the element.
func (s *Server) findViewElementLocked(user, viewID, blockID, actionID string) (*view, ViewBlock, ViewElement, error) {
	v, err := s.openModalLocked(user, viewID)
	if err != nil {
		return nil, ViewBlock{}, ViewElement{}, err
	}
	b, ok := v.View.Block(blockID)
	if !ok {
		return nil, ViewBlock{}, ViewElement{}, fmt.Errorf("slacktest: view %s has no block %q", viewID, blockID)
	}
	e, ok := b.Element(actionID)
	if !ok {
		var have []string
		for _, e := range b.Elements {
			have = append(have, e.ActionID)
		}
		return nil, ViewBlock{}, ViewElement{}, fmt.Errorf("slacktest: block %q of view %s has no element %q (it has %q)",
			blockID, viewID, actionID, have)
	}
	return v, b, e, nil
}

// openModalLocked returns the modal viewID if it is open on user's screen.
func (s *Server) openModalLocked(user, viewID string) (*view, error) {
	v, ok := s.vs.byID[viewID]
	switch {
	case !ok || v.Type != ViewModal:
		return nil, fmt.Errorf("slacktest: no modal %q", viewID)
	case v.User != user:
		return nil, fmt.Errorf("slacktest: modal %s is on %s's screen, not %s's", viewID, v.User, user)
	case !v.Open:
		return nil, fmt.Errorf("slacktest: modal %s is closed (%s)", viewID, v.ClosedBy)
	}
	return v, nil
}
