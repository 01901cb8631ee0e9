package slacktest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

type result[T any] struct {
	v   T
	err error
}

// async runs a call that waits for the bot's ack while the test plays the bot.
func async[T any](f func() (T, error)) <-chan result[T] {
	ch := make(chan result[T], 1)
	go func() {
		v, err := f()
		ch <- result[T]{v, err}
	}()
	return ch
}

func await[T any](ctx context.Context, t *testing.T, ch <-chan result[T]) result[T] {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
		t.Fatalf("no result: %v", ctx.Err())
		return result[T]{}
	}
}

// withPackage sets the package picker's initial option, as a bot keeps the
// chosen package in the form it updates.
func withPackage(form slack.ModalViewRequest, o *slack.OptionBlockObject) slack.ModalViewRequest {
	form.Blocks.BlockSet[0].(*slack.InputBlock).Element.(*slack.SelectBlockElement).InitialOption = o
	return form
}

// openForm opens the /runjob form for user the way the bot does.
func openForm(ctx context.Context, t *testing.T, fake *Server, client *botClient, user string, form slack.ModalViewRequest, others ...*botClient) *slack.ViewResponse {
	t.Helper()
	resp, err := client.api.OpenViewContext(ctx, triggerFor(ctx, t, fake, client, user, others...), form)
	if err != nil {
		t.Fatalf("OpenView: %v", err)
	}
	return resp
}

// nextCallback returns the next interactive event's callback, checking its type.
func nextCallback(ctx context.Context, t *testing.T, client *botClient, typ slack.InteractionType) (socketmode.Event, slack.InteractionCallback) {
	t.Helper()
	evt := client.next(ctx, t, socketmode.EventTypeInteractive)
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok || cb.Type != typ {
		t.Fatalf("event data %T of type %q, want a %s callback", evt.Data, cb.Type, typ)
	}
	return evt, cb
}

// The whole form, issue 11's way: suggestions, a dispatched choice answered
// with views.update, a submission refused with errors, then accepted.
func TestRunjobFormOverSocket(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	fake.SetUserName("U1", "alice")
	opened := openForm(ctx, t, fake, client, "U1", runjobForm("DATE=2026-11-01"))

	// Typing "sal" in the package picker.
	suggested := async(func() ([]Option, error) { return fake.SendBlockSuggestion(ctx, "U1", opened.ID, "package", "sal") })
	evt, cb := nextCallback(ctx, t, client, slack.InteractionTypeBlockSuggestion)
	if cb.ActionID != "package" || cb.BlockID != "package" || cb.Value != "sal" || cb.User.ID != "U1" || cb.User.Name != "alice" ||
		cb.Team.ID != TeamID || cb.APIAppID != AppID || cb.Container.Type != "view" || cb.Container.ViewID != opened.ID ||
		cb.View.ID != opened.ID || cb.View.CallbackID != "runjob_run" || cb.View.PrivateMetadata != `{"channel":"C1"}` ||
		cb.View.Hash != opened.Hash || cb.TriggerID != "" || !evt.Request.AcceptsResponsePayload {
		t.Errorf("block_suggestion = %+v, request %+v", cb, evt.Request)
	}
	err := client.sm.Ack(*evt.Request, slack.OptionsResponse{Options: []*slack.OptionBlockObject{
		opt("434", "sales_daily"), opt("435", "sales_weekly")}})
	if err != nil {
		t.Fatal(err)
	}
	r := await(ctx, t, suggested)
	if r.err != nil || len(r.v) != 2 || r.v[0] != (Option{Text: "sales_daily", Value: "434"}) {
		t.Fatalf("SendBlockSuggestion = %+v, %v", r.v, r.err)
	}

	// Choosing sales_daily: block_actions from the view.
	id, err := fake.SendViewAction(ctx, "U1", opened.ID, "package", "package", "434")
	if err != nil {
		t.Fatalf("SendViewAction: %v", err)
	}
	evt, cb = nextCallback(ctx, t, client, slack.InteractionTypeBlockActions)
	if evt.Request.EnvelopeID != id || cb.Container.Type != "view" || cb.Container.ViewID != opened.ID || cb.TriggerID == "" ||
		cb.View.ID != opened.ID || cb.View.Hash != opened.Hash || cb.ResponseURL != "" || cb.BlockActionState != nil {
		t.Errorf("block_actions = %+v", cb)
	}
	if got := cb.View.State.Values["package"]["package"]; got.Type != "external_select" || got.SelectedOption.Value != "434" {
		t.Errorf("view state of the package = %+v", got)
	}
	if got := cb.View.State.Values["variables"]["variables"].Value; got != "DATE=2026-11-01" {
		t.Errorf("view state of the variables = %q", got)
	}
	if len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("actions = %+v", cb.ActionCallback)
	}
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID != "package" || act.BlockID != "package" || act.Type != "external_select" ||
		act.SelectedOption.Value != "434" || act.SelectedOption.Text.Text != "sales_daily" || act.ActionTs == "" {
		t.Errorf("action = %+v", act)
	}
	_ = client.sm.Ack(*evt.Request)
	if v, _ := fake.View(opened.ID); v.Value("package", "package").Selected == nil {
		t.Errorf("the choice is not in the fake's state: %+v", v.State)
	}

	// The bot answers with views.update, keeping the choice.
	updated, err := client.api.UpdateViewContext(ctx, withPackage(runjobForm("DATE=2026-11-01"), opt("434", "sales_daily")), "", cb.View.Hash, cb.View.ID)
	if err != nil {
		t.Fatalf("UpdateView: %v", err)
	}

	// Typing a bad line and submitting: the bot answers errors.
	if err := fake.SetViewInput(opened.ID, "variables", "variables", "DATE=2026-11-02\nBAD"); err != nil {
		t.Fatal(err)
	}
	submitted := async(func() (Submission, error) { return fake.SubmitView(ctx, "U1", opened.ID) })
	evt, cb = nextCallback(ctx, t, client, slack.InteractionTypeViewSubmission)
	vals := cb.View.State.Values
	if vals["variables"]["variables"].Value != "DATE=2026-11-02\nBAD" || vals["package"]["package"].SelectedOption.Value != "434" ||
		vals["cluster"]["cluster"].SelectedOption.Value != "52" || cb.View.Hash != updated.Hash || cb.View.CallbackID != "runjob_run" ||
		cb.TriggerID == "" || cb.User.ID != "U1" || !evt.Request.AcceptsResponsePayload {
		t.Errorf("view_submission = %+v, values %+v", cb, vals)
	}
	errs := map[string]string{"variables": "Line 2: BAD is not NAME=value"}
	if err := client.sm.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(errs)); err != nil {
		t.Fatal(err)
	}
	sub := await(ctx, t, submitted)
	if sub.err != nil || sub.v.ResponseAction != ResponseActionErrors || sub.v.Errors["variables"] != errs["variables"] ||
		sub.v.Closed || sub.v.EnvelopeID != evt.Request.EnvelopeID || sub.v.Values["variables"]["variables"].Value != "DATE=2026-11-02\nBAD" {
		t.Errorf("SubmitView = %+v, %v", sub.v, sub.err)
	}
	v, _ := fake.View(opened.ID)
	if !v.Open || v.Errors["variables"] != errs["variables"] || len(v.Submissions) != 1 {
		t.Errorf("view after errors: open %v, errors %v, %d submissions", v.Open, v.Errors, len(v.Submissions))
	}

	// Fixed and submitted again: an empty ack closes the modal.
	if err := fake.SetViewInput(opened.ID, "variables", "variables", "DATE=2026-11-02"); err != nil {
		t.Fatal(err)
	}
	submitted = async(func() (Submission, error) { return fake.SubmitView(ctx, "U1", opened.ID) })
	evt, _ = nextCallback(ctx, t, client, slack.InteractionTypeViewSubmission)
	_ = client.sm.Ack(*evt.Request)
	sub = await(ctx, t, submitted)
	if sub.err != nil || !sub.v.Closed || sub.v.Ack != nil || sub.v.ResponseAction != "" {
		t.Errorf("second SubmitView = %+v, %v", sub.v, sub.err)
	}
	v, _ = fake.View(opened.ID)
	if v.Open || v.ClosedBy != ClosedBySubmit || len(v.Submissions) != 2 || len(fake.OpenViews("U1")) != 0 {
		t.Errorf("view after the empty ack: open %v by %q, %d submissions", v.Open, v.ClosedBy, len(v.Submissions))
	}
	// A closed modal is gone for views.update.
	_, err = client.api.UpdateViewContext(ctx, runjobForm(""), "", "", opened.ID)
	if se, ok := slackError(err); !ok || se.Err != "not_found" {
		t.Errorf("update of the closed modal: %v, want not_found", err)
	}
	if problems := client.problemEvents(); len(problems) != 0 {
		t.Errorf("client reported %v", problems)
	}
}

func TestBlockSuggestionRules(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	form := runjobForm("")
	// The cluster picker as an external_select without min_query_length:
	// Slack waits for three characters.
	form.Blocks.BlockSet[1] = slack.NewInputBlock("cluster", plain("Cluster"), nil,
		slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, nil, "cluster"))
	opened := openForm(ctx, t, fake, client, "U1", form)
	envelopes := len(fake.Envelopes())

	if _, err := fake.SendBlockSuggestion(ctx, "U1", opened.ID, "cluster", "et"); !errors.Is(err, ErrBelowMinQueryLength) {
		t.Errorf("two characters: %v, want ErrBelowMinQueryLength", err)
	}
	if _, err := fake.SendBlockSuggestion(ctx, "U1", opened.ID, "variables", "abc"); err == nil {
		t.Errorf("suggestions for a text input: no error")
	}
	if _, err := fake.SendBlockSuggestion(ctx, "U2", opened.ID, "package", ""); err == nil {
		t.Errorf("suggestions in somebody else's modal: no error")
	}
	if n := len(fake.Envelopes()); n != envelopes {
		t.Errorf("%d envelopes sent for suggestions Slack would not ask for", n-envelopes)
	}

	tests := []struct {
		name    string
		ack     any // nil: an ack without payload
		want    []Option
		wantErr string
	}{
		{name: "no matches", ack: map[string]any{"options": []any{}}, want: []Option{}},
		{name: "option groups", ack: slack.OptionGroupsResponse{OptionGroups: []*slack.OptionGroupBlockObject{
			slack.NewOptionGroupBlockElement(plain("EU"), opt("52", "etl-52")),
			slack.NewOptionGroupBlockElement(plain("US"), opt("60", "etl-60"))}},
			want: []Option{{"etl-52", "52", "EU"}, {"etl-60", "60", "US"}}},
		{name: "no payload", wantErr: "no options"},
		// slack.OptionsResponse drops an empty list: {} is no answer.
		{name: "empty object", ack: slack.OptionsResponse{}, wantErr: "no options"},
		{name: "long text", ack: slack.OptionsResponse{Options: []*slack.OptionBlockObject{opt("52", strings.Repeat("x", 76))}},
			wantErr: "/options/0/text/text"},
	}
	for _, tt := range tests {
		got := async(func() ([]Option, error) { return fake.SendBlockSuggestion(ctx, "U1", opened.ID, "cluster", "etl") })
		evt, _ := nextCallback(ctx, t, client, slack.InteractionTypeBlockSuggestion)
		if tt.ack == nil {
			_ = client.sm.Ack(*evt.Request)
		} else {
			_ = client.sm.Ack(*evt.Request, tt.ack)
		}
		r := await(ctx, t, got)
		switch {
		case tt.wantErr != "" && (r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr)):
			t.Errorf("%s: %v, want an error with %q", tt.name, r.err, tt.wantErr)
		case tt.wantErr == "" && (r.err != nil || len(r.v) != len(tt.want) || (len(r.v) > 0 && r.v[0] != tt.want[0])):
			t.Errorf("%s: %+v, %v; want %+v", tt.name, r.v, r.err, tt.want)
		}
	}

	// Only what was suggested (or the initial option) can be chosen; the
	// answers after the option groups were refused, so those stand.
	if _, err := fake.SendViewAction(ctx, "U1", opened.ID, "cluster", "cluster", "99"); err == nil {
		t.Errorf("chose an option never suggested")
	}
	if _, err := fake.SendViewAction(ctx, "U1", opened.ID, "cluster", "cluster", "60"); !errors.Is(err, ErrNotDispatched) {
		t.Errorf("choice in an input without dispatch_action: %v, want ErrNotDispatched", err)
	}
	v, _ := fake.View(opened.ID)
	if sel := v.Value("cluster", "cluster").Selected; sel == nil || *sel != (Option{Text: "etl-60", Value: "60"}) {
		t.Errorf("cluster state after the choice = %+v", sel)
	}
	// Nothing was suggested for the package picker.
	if _, err := fake.SendViewAction(ctx, "U1", opened.ID, "package", "package", "434"); err == nil {
		t.Errorf("chose a package never suggested")
	}

	// The bot not acking in time.
	short, cancel := context.WithCancel(ctx)
	got := async(func() ([]Option, error) { return fake.SendBlockSuggestion(short, "U1", opened.ID, "cluster", "etl") })
	nextCallback(ctx, t, client, slack.InteractionTypeBlockSuggestion)
	cancel()
	if r := await(ctx, t, got); !errors.Is(r.err, context.Canceled) {
		t.Errorf("no ack: %v, want the context's error", r.err)
	}
}

func TestSubmitRules(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	form := runjobForm("")
	opened := openForm(ctx, t, fake, client, "U1", form)
	envelopes := len(fake.Envelopes())

	// The package is required and empty: Slack's client does not submit.
	_, err := fake.SubmitView(ctx, "U1", opened.ID)
	var fe *FormError
	if !errors.As(err, &fe) || fe.Errors["package"] == "" || len(fe.Errors) != 1 {
		t.Errorf("submit without a package: %v, want a FormError for package", err)
	}
	if _, err := fake.SubmitView(ctx, "U2", opened.ID); err == nil {
		t.Errorf("U2 submitted U1's modal")
	}
	if n := len(fake.Envelopes()); n != envelopes {
		t.Errorf("%d envelopes sent for submissions Slack would refuse", n-envelopes)
	}

	// A static_select offers its own options; choosing one in an input
	// without dispatch_action changes the state only.
	if _, err := fake.SendViewAction(ctx, "U1", opened.ID, "cluster", "cluster", "99"); err == nil {
		t.Errorf("chose a cluster the picker does not offer")
	}
	if _, err := fake.SendViewAction(ctx, "U1", opened.ID, "cluster", "cluster", "53"); !errors.Is(err, ErrNotDispatched) {
		t.Errorf("cluster choice: %v, want ErrNotDispatched", err)
	}
	if n := len(fake.Envelopes()); n != envelopes {
		t.Errorf("%d envelopes sent for a choice Slack does not dispatch", n-envelopes)
	}
	if v, _ := fake.View(opened.ID); v.Value("cluster", "cluster").Selected == nil || v.Value("cluster", "cluster").Selected.Value != "53" {
		t.Errorf("cluster state = %+v, want 53", v.Value("cluster", "cluster"))
	}

	// Errors must name input blocks; Slack cannot show others.
	_, err = client.api.UpdateViewContext(ctx, withPackage(runjobForm(""), opt("434", "sales_daily")), "", "", opened.ID)
	if err != nil {
		t.Fatal(err)
	}
	acks := []struct {
		name    string
		ack     any
		problem string
		open    bool
	}{
		{"errors for a block that is no input", slack.NewErrorsViewSubmissionResponse(map[string]string{"title": "x"}), "not input blocks", true},
		{"push", slack.NewPushViewSubmissionResponse(&slack.ModalViewRequest{}), "push", true},
		{"update with an invalid view", slack.NewUpdateViewSubmissionResponse(&slack.ModalViewRequest{Type: slack.VTModal}), "invalid view", true},
		{"update", slack.NewUpdateViewSubmissionResponse(func() *slack.ModalViewRequest {
			v := runjobForm("STARTED=1")
			v.Submit, v.Blocks.BlockSet = nil, v.Blocks.BlockSet[2:]
			v.Blocks.BlockSet[0] = slack.NewSectionBlock(plain("Job 1001 started"), nil, nil)
			return &v
		}()), "", true},
	}
	for _, tt := range acks {
		submitted := async(func() (Submission, error) { return fake.SubmitView(ctx, "U1", opened.ID) })
		evt, _ := nextCallback(ctx, t, client, slack.InteractionTypeViewSubmission)
		_ = client.sm.Ack(*evt.Request, tt.ack)
		r := await(ctx, t, submitted)
		if tt.problem == "" && r.err != nil || tt.problem != "" && (r.err == nil || !strings.Contains(r.v.Problem, tt.problem)) {
			t.Errorf("%s: problem %q, %v; want problem %q", tt.name, r.v.Problem, r.err, tt.problem)
		}
		if v, _ := fake.View(opened.ID); v.Open != tt.open {
			t.Errorf("%s: open = %v", tt.name, v.Open)
		}
	}
	v, _ := fake.View(opened.ID)
	if v.Updates != 2 || !strings.Contains(string(v.Blocks), "Job 1001 started") || v.Submit != "" {
		t.Errorf("after response_action update: %d updates, submit %q, blocks %s", v.Updates, v.Submit, v.Blocks)
	}
	// The updated modal has no Submit button.
	if _, err := fake.SubmitView(ctx, "U1", opened.ID); err == nil || !strings.Contains(err.Error(), "no Submit") {
		t.Errorf("submit without a Submit button: %v", err)
	}
}

// A double click on Submit reaches the bot twice, on two replicas; a
// redelivery or a broadcast repeats one envelope, and its first ack counts.
func TestDuplicateDeliveries(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	a := connectedClient(ctx, t, fake)
	b := connectedClient(ctx, t, fake)
	opened := openForm(ctx, t, fake, a, "U1", withPackage(runjobForm(""), opt("434", "sales_daily")), b)

	twice := async(func() ([2]Submission, error) { return fake.SubmitViewTwice(ctx, "U1", opened.ID) })
	var cbs []slack.InteractionCallback
	var ids []string
	for _, c := range []*botClient{a, b} {
		evt, cb := nextCallback(ctx, t, c, slack.InteractionTypeViewSubmission)
		cbs, ids = append(cbs, cb), append(ids, evt.Request.EnvelopeID)
		_ = c.sm.Ack(*evt.Request)
	}
	if ids[0] == ids[1] || cbs[0].View.ID != cbs[1].View.ID || cbs[0].View.Hash != cbs[1].View.Hash ||
		cbs[0].TriggerID == cbs[1].TriggerID {
		t.Errorf("the two submissions: envelopes %q, views %q/%q, hashes %q/%q", ids, cbs[0].View.ID, cbs[1].View.ID,
			cbs[0].View.Hash, cbs[1].View.Hash)
	}
	r := await(ctx, t, twice)
	if r.err != nil || r.v[0].Closed == r.v[1].Closed || !r.v[0].Acked || !r.v[1].Acked {
		t.Errorf("SubmitViewTwice = %+v, %v; want both acked, one closing the modal", r.v, r.err)
	}
	if v, _ := fake.View(opened.ID); v.Open || len(v.Submissions) != 2 {
		t.Errorf("after the double click: open %v, %d submissions", v.Open, len(v.Submissions))
	}

	// A submission not acked is redelivered with its envelope id; the first
	// ack is the one that counts.
	second := openForm(ctx, t, fake, a, "U1", withPackage(runjobForm(""), opt("434", "sales_daily")), b)
	id, err := fake.SendViewSubmission(ctx, "U1", second.ID)
	if err != nil {
		t.Fatal(err)
	}
	first := a
	if fake.Envelopes()[len(fake.Envelopes())-1].Deliveries[0].Conn == 2 {
		first = b
	}
	nextCallback(ctx, t, first, slack.InteractionTypeViewSubmission)
	if err := fake.Redeliver(ctx, id); err != nil {
		t.Fatal(err)
	}
	other := map[*botClient]*botClient{a: b, b: a}[first]
	evt, _ := nextCallback(ctx, t, other, slack.InteractionTypeViewSubmission)
	if evt.Request.EnvelopeID != id || evt.Request.RetryAttempt != 1 {
		t.Errorf("redelivery = %+v", evt.Request)
	}
	_ = other.sm.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"variables": "bad"}))
	_ = other.sm.Ack(*evt.Request) // a second ack of the same envelope changes nothing
	sub, err := fake.WaitSubmission(ctx, id)
	if err != nil || sub.ResponseAction != ResponseActionErrors || sub.Closed {
		t.Errorf("WaitSubmission = %+v, %v", sub, err)
	}
	if err := fake.Wait(ctx, func(s *Snapshot) bool {
		n := 0
		for _, a := range s.Acks() {
			if a.EnvelopeID == id {
				n++
			}
		}
		return n == 2
	}); err != nil {
		t.Fatal(err)
	}
	if v, _ := fake.View(second.ID); !v.Open || v.Errors["variables"] != "bad" {
		t.Errorf("after errors then an empty ack of the same envelope: open %v, errors %v", v.Open, v.Errors)
	}

	// A block_suggestion broadcast to both replicas: the first ack's options
	// are what the user sees.
	sent := len(fake.Envelopes())
	suggested := async(func() ([]Option, error) { return fake.SendBlockSuggestion(ctx, "U1", second.ID, "package", "sal") })
	if err := fake.Wait(ctx, func(s *Snapshot) bool { return len(s.Envelopes()) > sent }); err != nil {
		t.Fatal(err)
	}
	envs := fake.Envelopes()
	first = map[int]*botClient{1: a, 2: b}[envs[sent].Deliveries[0].Conn]
	evt, _ = nextCallback(ctx, t, first, slack.InteractionTypeBlockSuggestion)
	if err := fake.Broadcast(ctx, evt.Request.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	_ = first.sm.Ack(*evt.Request, slack.OptionsResponse{Options: []*slack.OptionBlockObject{opt("434", "sales_daily")}})
	// The first ack must reach the fake before the others are sent: each
	// client writes its acks from a goroutine of its own, so another
	// client's ack could otherwise overtake it.
	if _, err := fake.WaitAck(ctx, evt.Request.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*botClient{a, b} {
		again, _ := nextCallback(ctx, t, c, slack.InteractionTypeBlockSuggestion)
		if again.Request.EnvelopeID != evt.Request.EnvelopeID {
			t.Errorf("broadcast delivered %q, want %q", again.Request.EnvelopeID, evt.Request.EnvelopeID)
		}
		_ = c.sm.Ack(*again.Request, slack.OptionsResponse{Options: []*slack.OptionBlockObject{opt("999", "late")}})
	}
	if r := await(ctx, t, suggested); r.err != nil || len(r.v) != 1 || r.v[0].Value != "434" {
		t.Errorf("suggestions after the broadcast = %+v, %v; want the first ack's", r.v, r.err)
	}
}

func TestCloseViewAndWaitView(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	form := runjobForm("")
	form.NotifyOnClose = true
	opened := openForm(ctx, t, fake, client, "U1", form)

	waited := async(func() (View, error) {
		return fake.WaitView(ctx, func(v View) bool { return v.ID == opened.ID && !v.Open })
	})
	id, err := fake.CloseView(ctx, "U1", opened.ID)
	if err != nil || id == "" {
		t.Fatalf("CloseView = %q, %v", id, err)
	}
	_, cb := nextCallback(ctx, t, client, slack.InteractionTypeViewClosed)
	if cb.View.ID != opened.ID || cb.User.ID != "U1" || cb.IsCleared {
		t.Errorf("view_closed = %+v", cb)
	}
	if r := await(ctx, t, waited); r.err != nil || r.v.ClosedBy != ClosedByUser {
		t.Errorf("WaitView = %+v, %v", r.v, r.err)
	}
	if _, err := fake.CloseView(ctx, "U1", opened.ID); err == nil {
		t.Errorf("closed a closed modal")
	}
	if err := fake.SetViewInput(opened.ID, "variables", "variables", "x"); err == nil {
		t.Errorf("typed into a closed modal")
	}

	// Without notify_on_close Slack says nothing.
	quiet := openForm(ctx, t, fake, client, "U1", runjobForm(""))
	if id, err := fake.CloseView(ctx, "U1", quiet.ID); err != nil || id != "" {
		t.Errorf("CloseView without notify_on_close = %q, %v", id, err)
	}
}
