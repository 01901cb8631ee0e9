package slacktest

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// triggerIDLocked issues a trigger_id for an interaction of user. Like
// Slack's, it can be exchanged once (views.open), and only within
// Options.TriggerTTL of being issued when that is set: Slack's triggers
// expire after 3 s (https://docs.slack.dev/interactivity/handling-user-interaction).
func (s *Server) triggerIDLocked(user string) string {
	s.seq++
	id := fmt.Sprintf("%d.%d.%s", 13345224609+s.seq, 738474920, strings.ToLower(randomID(21)))
	s.vs.triggers[id] = &trigger{user: user, issued: time.Now()}
	return id
}

// exchangeTriggerLocked uses trigger id up at now. It returns the user of
// the interaction, or the Slack error for a trigger that cannot be used.
func (s *Server) exchangeTriggerLocked(id string, now time.Time) (user, code string) {
	t, ok := s.vs.triggers[id]
	switch {
	case !ok:
		return "", "invalid_trigger_id"
	case t.used:
		return "", "exchanged_trigger_id"
	case s.opts.TriggerTTL > 0 && now.Sub(t.issued) > s.opts.TriggerTTL:
		return "", "expired_trigger_id"
	}
	t.used = true
	return t.user, ""
}

// parseViewParam checks the view argument of a views.* call; want is the
// type the method takes.
func parseViewParam(p url.Values, want string) (viewSpec, *apiResult) {
	spec, err := parseView(p.Get("view"))
	if err != nil {
		res := blockFailResult(err)
		return spec, &res
	}
	if spec.typ != want {
		res := blockFailResult(&blockError{code: "invalid_arguments",
			messages: []string{fmt.Sprintf("[ERROR] must be %s [json-pointer:/view/type]", want)}})
		return spec, &res
	}
	return spec, nil
}

// externalIDTakenLocked reports whether another view than v uses the
// external_id of spec (Slack's duplicate_external_id: they are unique in a
// workspace).
func (s *Server) externalIDTakenLocked(spec viewSpec, v *view) bool {
	other, ok := s.vs.external[spec.externalID]
	return spec.externalID != "" && ok && other != v
}

func (s *Server) newViewLocked(user string, spec viewSpec, now time.Time) *view {
	v := &view{View: View{ID: "V" + randomID(10), User: user, Open: true, OpenedAt: now}, suggested: map[string][]Option{}}
	s.applySpecLocked(v, spec, now)
	v.idx = len(s.vs.order)
	s.vs.order = append(s.vs.order, v)
	s.vs.byID[v.ID] = v
	return v
}

func viewResult(v *view) apiResult { return okResult(map[string]any{"view": v.wire()}) }

// viewsOpenLocked serves views.open: a modal for the user whose interaction
// issued trigger_id.
func (s *Server) viewsOpenLocked(p url.Values, now time.Time) apiResult {
	if p.Get("trigger_id") == "" {
		return failResult("invalid_arguments")
	}
	spec, bad := parseViewParam(p, ViewModal)
	if bad != nil {
		return *bad
	}
	if s.externalIDTakenLocked(spec, nil) {
		return failResult("duplicate_external_id")
	}
	user, code := s.exchangeTriggerLocked(p.Get("trigger_id"), now)
	if code != "" {
		return failResult(code)
	}
	v := s.newViewLocked(user, spec, now)
	v.TriggerID = p.Get("trigger_id")
	s.publishViewLocked(v)
	return viewResult(v)
}

// viewsUpdateLocked serves views.update: replace the view named by view_id
// or external_id, if hash (when given) is its current one.
func (s *Server) viewsUpdateLocked(p url.Values, now time.Time) apiResult {
	var v *view
	var ok bool
	switch {
	case p.Get("view_id") != "":
		v, ok = s.vs.byID[p.Get("view_id")]
	case p.Get("external_id") != "":
		v, ok = s.vs.external[p.Get("external_id")]
	default:
		return failResult("invalid_arguments")
	}
	// A modal the user has closed is gone: Slack answers not_found
	// (slackapi/bolt-js#1309).
	if !ok || !v.Open {
		return failResult("not_found")
	}
	if h := p.Get("hash"); h != "" && h != v.Hash {
		return failResult("hash_conflict")
	}
	spec, bad := parseViewParam(p, v.Type)
	if bad != nil {
		return *bad
	}
	if s.externalIDTakenLocked(spec, v) {
		return failResult("duplicate_external_id")
	}
	s.updateViewLocked(v, spec, now)
	return viewResult(v)
}

// updateViewLocked applies an update (views.update, views.publish again,
// a response_action update).
func (s *Server) updateViewLocked(v *view, spec viewSpec, now time.Time) {
	s.applySpecLocked(v, spec, now)
	v.Errors = nil
	v.Updates++
	s.publishViewLocked(v)
}

// viewsPublishLocked serves views.publish: the home tab of user_id, one per
// user, replaced by each publish.
func (s *Server) viewsPublishLocked(p url.Values, now time.Time) apiResult {
	user := p.Get("user_id")
	if user == "" {
		return failResult("invalid_arguments")
	}
	spec, bad := parseViewParam(p, ViewHome)
	if bad != nil {
		return *bad
	}
	home := s.vs.homes[user]
	if h := p.Get("hash"); h != "" && home != nil && h != home.Hash {
		return failResult("hash_conflict")
	}
	if s.externalIDTakenLocked(spec, home) {
		return failResult("duplicate_external_id")
	}
	if home == nil {
		home = s.newViewLocked(user, spec, now)
		s.vs.homes[user] = home
		s.publishViewLocked(home)
	} else {
		s.updateViewLocked(home, spec, now)
	}
	return viewResult(home)
}
