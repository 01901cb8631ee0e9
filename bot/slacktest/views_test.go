package slacktest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func opt(value, text string) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(value, plain(text), nil)
}

// runjobForm is the /runjob form as issue 11 describes it: a package picker
// fed by block_suggestion (its choice dispatched), a cluster picker of
// static options, and multi-line variables.
func runjobForm(variables string) slack.ModalViewRequest {
	pkg := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, plain("Choose a package"), "package")
	zero := 0
	pkg.MinQueryLength = &zero
	cluster := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a cluster"), "cluster",
		opt("52", "etl-52"), opt("53", "etl-53"))
	cluster.InitialOption = opt("52", "etl-52")
	vars := slack.NewPlainTextInputBlockElement(plain("NAME=value, one a line"), "variables")
	vars.Multiline = true
	vars.InitialValue = variables
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain("Run a job"),
		Submit:          plain("Run"),
		Close:           plain("Cancel"),
		CallbackID:      "runjob_run",
		PrivateMetadata: `{"channel":"C1"}`,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("package", plain("Package"), nil, pkg).WithDispatchAction(true),
			slack.NewInputBlock("cluster", plain("Cluster"), nil, cluster),
			slack.NewInputBlock("variables", plain("Variables"), nil, vars).WithOptional(true),
		}},
	}
}

// triggerFor sends a slash command of user and returns its trigger_id, the
// way a bot gets one. With several clients (connected in the order given),
// it reads the command from the one the fake sent it to.
func triggerFor(ctx context.Context, t *testing.T, fake *Server, client *botClient, user string, others ...*botClient) string {
	t.Helper()
	if _, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: user, ChannelID: "C1"}); err != nil {
		t.Fatal(err)
	}
	if len(others) > 0 {
		envs := fake.Envelopes()
		client = append([]*botClient{client}, others...)[envs[len(envs)-1].Deliveries[0].Conn-1]
	}
	evt := client.next(ctx, t, socketmode.EventTypeSlashCommand)
	if err := client.sm.Ack(*evt.Request); err != nil {
		t.Fatal(err)
	}
	return evt.Data.(slack.SlashCommand).TriggerID
}

func slackError(err error) (slack.SlackErrorResponse, bool) {
	var se slack.SlackErrorResponse
	return se, errors.As(err, &se)
}

func TestViewsOpenAndInspect(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	trigger := triggerFor(ctx, t, fake, client, "U1")

	resp, err := client.api.OpenViewContext(ctx, trigger, runjobForm("DATE=2026-11-01"))
	if err != nil {
		t.Fatalf("OpenView: %v", err)
	}
	if !strings.HasPrefix(resp.ID, "V") || resp.Hash == "" || resp.CallbackID != "runjob_run" || resp.Type != slack.VTModal ||
		resp.TeamID != TeamID || resp.AppID != AppID || resp.BotID != BotID || resp.RootViewID != resp.ID ||
		resp.PrivateMetadata != `{"channel":"C1"}` || resp.Title.Text != "Run a job" || resp.Submit.Text != "Run" {
		t.Errorf("views.open view = %+v", resp.View)
	}
	if resp.State == nil || resp.State.Values["variables"]["variables"].Value != "DATE=2026-11-01" ||
		resp.State.Values["cluster"]["cluster"].SelectedOption.Value != "52" {
		t.Errorf("views.open state = %+v", resp.State)
	}
	if len(resp.Blocks.BlockSet) != 3 {
		t.Errorf("views.open blocks = %d, want 3", len(resp.Blocks.BlockSet))
	}

	v, ok := fake.View(resp.ID)
	if !ok || !v.Open || v.User != "U1" || v.Hash != resp.Hash || v.TriggerID != trigger || v.Title != "Run a job" ||
		v.Submit != "Run" || v.Close != "Cancel" || v.Type != ViewModal || v.Updates != 0 {
		t.Fatalf("View = %+v, %v", v, ok)
	}
	pkg, ok := v.Block("package")
	if !ok || pkg.Type != "input" || pkg.Label != "Package" || !pkg.DispatchAction || pkg.Optional {
		t.Errorf("package block = %+v", pkg)
	}
	el, ok := v.Element("package", "package")
	if !ok || el.Type != "external_select" || el.MinQueryLength == nil || *el.MinQueryLength != 0 || el.Placeholder != "Choose a package" {
		t.Errorf("package element = %+v", el)
	}
	cluster, _ := v.Element("cluster", "cluster")
	if cluster.Type != "static_select" || len(cluster.Options) != 2 || cluster.Options[1] != (Option{Text: "etl-53", Value: "53"}) ||
		cluster.InitialOption == nil || cluster.InitialOption.Value != "52" {
		t.Errorf("cluster element = %+v", cluster)
	}
	vars, _ := v.Element("variables", "variables")
	if !vars.Multiline || vars.InitialValue != "DATE=2026-11-01" {
		t.Errorf("variables element = %+v", vars)
	}
	if got := v.Value("variables", "variables"); got.Type != "plain_text_input" || got.Value != "DATE=2026-11-01" {
		t.Errorf("variables state = %+v", got)
	}
	if _, ok := v.Element("package", "nope"); ok {
		t.Errorf("found an element that is not there")
	}
	if open := fake.OpenViews("U1"); len(open) != 1 || open[0].ID != v.ID || len(fake.OpenViews("U2")) != 0 {
		t.Errorf("OpenViews = %+v", open)
	}
	if calls := fake.Calls("views.open"); len(calls) != 1 || calls[0].Params.Get("trigger_id") != trigger ||
		!strings.Contains(calls[0].Params.Get("view"), "runjob_run") {
		t.Errorf("views.open calls = %+v", calls)
	}

	// A trigger is exchanged once; an unknown one is invalid.
	for _, tt := range []struct{ trigger, want string }{
		{trigger, "exchanged_trigger_id"},
		{"1.2.nope", "invalid_trigger_id"},
	} {
		_, err := client.api.OpenViewContext(ctx, tt.trigger, runjobForm(""))
		if se, ok := slackError(err); !ok || se.Err != tt.want {
			t.Errorf("views.open with trigger %q: %v, want %s", tt.trigger, err, tt.want)
		}
	}
	// A click's trigger works too.
	if _, _, err := client.api.PostMessageContext(ctx, "C1", slack.MsgOptionBlocks(cardBlocks("1001")...)); err != nil {
		t.Fatal(err)
	}
	ts := fake.Messages()[0].TS
	if _, err := fake.SendBlockAction(ctx, BlockAction{UserID: "U2", ChannelID: "C1", MessageTS: ts, ActionID: "runjob_rerun"}); err != nil {
		t.Fatal(err)
	}
	cb := client.next(ctx, t, socketmode.EventTypeInteractive).Data.(slack.InteractionCallback)
	resp2, err := client.api.OpenViewContext(ctx, cb.TriggerID, runjobForm(""))
	if err != nil {
		t.Fatalf("views.open with a click's trigger: %v", err)
	}
	if v2, _ := fake.View(resp2.ID); v2.User != "U2" {
		t.Errorf("modal opened for %q, want the clicker U2", v2.User)
	}
	if n := len(fake.Snapshot().Views()); n != 2 {
		t.Errorf("%d views, want 2", n)
	}
}

func TestTriggerTTL(t *testing.T) {
	ctx := testContext(t)
	// Any round trip takes longer than a nanosecond.
	fake := newFake(t, Options{TriggerTTL: time.Nanosecond})
	client := connectedClient(ctx, t, fake)
	trigger := triggerFor(ctx, t, fake, client, "U1")
	_, err := client.api.OpenViewContext(ctx, trigger, runjobForm(""))
	if se, ok := slackError(err); !ok || se.Err != "expired_trigger_id" {
		t.Errorf("views.open with an expired trigger: %v, want expired_trigger_id", err)
	}
}

func TestViewsUpdate(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	form := runjobForm("A=1")
	form.ExternalID = "runjob-form-1"
	opened, err := client.api.OpenViewContext(ctx, triggerFor(ctx, t, fake, client, "U1"), form)
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.SetViewInput(opened.ID, "variables", "variables", "A=2\nB=3"); err != nil {
		t.Fatal(err)
	}
	if v, _ := fake.View(opened.ID); v.Value("variables", "variables").Value != "A=2\nB=3" {
		t.Errorf("typed text not in the state: %+v", v.State)
	}

	updated, err := client.api.UpdateViewContext(ctx, runjobForm("A=9"), "", opened.Hash, opened.ID)
	if err != nil {
		t.Fatalf("UpdateView: %v", err)
	}
	if updated.ID != opened.ID || updated.Hash == opened.Hash || updated.ExternalID != "runjob-form-1" {
		t.Errorf("updated view: id %q hash %q external_id %q (opened %q %q)", updated.ID, updated.Hash, updated.ExternalID, opened.ID, opened.Hash)
	}
	v, _ := fake.View(opened.ID)
	// The fake applies the new initial_value: what the user typed is gone.
	if v.Updates != 1 || v.Hash != updated.Hash || v.Value("variables", "variables").Value != "A=9" {
		t.Errorf("after update: updates %d, hash %q, variables %+v", v.Updates, v.Hash, v.Value("variables", "variables"))
	}

	// The hash of the opened view is stale now.
	_, err = client.api.UpdateViewContext(ctx, runjobForm("A=10"), "", opened.Hash, opened.ID)
	if se, ok := slackError(err); !ok || se.Err != "hash_conflict" {
		t.Errorf("update with a stale hash: %v, want hash_conflict", err)
	}
	// By external_id, without a hash.
	if _, err := client.api.UpdateViewContext(ctx, runjobForm("A=11"), "runjob-form-1", "", ""); err != nil {
		t.Errorf("update by external_id: %v", err)
	}
	for _, tt := range []struct{ externalID, viewID string }{{"", "VNOPE"}, {"nope", ""}} {
		_, err := client.api.UpdateViewContext(ctx, runjobForm(""), tt.externalID, "", tt.viewID)
		if se, ok := slackError(err); !ok || se.Err != "not_found" {
			t.Errorf("update of %q/%q: %v, want not_found", tt.externalID, tt.viewID, err)
		}
	}
	// external_id is unique in the workspace.
	_, err = client.api.OpenViewContext(ctx, triggerFor(ctx, t, fake, client, "U2"), form)
	if se, ok := slackError(err); !ok || se.Err != "duplicate_external_id" {
		t.Errorf("second view with the same external_id: %v, want duplicate_external_id", err)
	}
	// A modal is not turned into a home tab.
	home := runjobForm("")
	home.Type, home.Title, home.Submit, home.Close = slack.VTHomeTab, nil, nil, nil
	_, err = client.api.UpdateViewContext(ctx, home, "", "", opened.ID)
	if se, ok := slackError(err); !ok || se.Err != "invalid_arguments" {
		t.Errorf("update to a home tab: %v, want invalid_arguments", err)
	}
	if v, _ := fake.View(opened.ID); v.Updates != 2 {
		t.Errorf("updates = %d, want 2 (failed calls change nothing)", v.Updates)
	}
}

func TestViewsFailuresLatencyAndRateLimits(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	trigger := triggerFor(ctx, t, fake, client, "U1")

	fake.FailNext("views.open", 1, "fatal_error")
	fake.RateLimitNext("views.open", 1, 0)
	if _, err := client.api.OpenViewContext(ctx, trigger, runjobForm("")); err == nil {
		t.Fatal("rate limited views.open succeeded")
	} else if _, ok := errors.AsType[*slack.RateLimitedError](err); !ok {
		t.Errorf("rate limited views.open: %v, want *slack.RateLimitedError", err)
	}
	if _, err := client.api.OpenViewContext(ctx, trigger, runjobForm("")); err == nil {
		t.Fatal("failed views.open succeeded")
	} else if se, ok := slackError(err); !ok || se.Err != "fatal_error" {
		t.Errorf("failed views.open: %v, want fatal_error", err)
	}
	// Neither failure used the trigger up.
	opened, err := client.api.OpenViewContext(ctx, trigger, runjobForm(""))
	if err != nil {
		t.Fatalf("views.open after the failures: %v", err)
	}

	fake.SetLatency("views.update", time.Hour)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := client.api.UpdateViewContext(short, runjobForm("x"), "", "", opened.ID); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("update stuck in latency: %v, want the context's deadline", err)
	}
	fake.SetLatency("views.update", 0)
	if _, err := client.api.UpdateViewContext(ctx, runjobForm("x"), "", "", opened.ID); err != nil {
		t.Errorf("update without latency: %v", err)
	}
}

func TestViewsPublish(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	api := newAPI(t, fake, fake.BotToken())
	home := func(text string) slack.HomeTabViewRequest {
		return slack.HomeTabViewRequest{Type: slack.VTHomeTab, CallbackID: "runjob_home", Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)}}}
	}
	first, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: home("Your jobs: none")})
	if err != nil {
		t.Fatalf("PublishView: %v", err)
	}
	hash := first.Hash
	second, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: home("Your jobs: 1001"), Hash: &hash})
	if err != nil {
		t.Fatalf("PublishView with the current hash: %v", err)
	}
	if second.ID != first.ID || second.Hash == first.Hash || second.Type != slack.VTHomeTab {
		t.Errorf("second publish = id %q hash %q type %q", second.ID, second.Hash, second.Type)
	}
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: home("stale"), Hash: &hash})
	if se, ok := slackError(err); !ok || se.Err != "hash_conflict" {
		t.Errorf("publish with a stale hash: %v, want hash_conflict", err)
	}
	v, ok := fake.HomeView("U1")
	if !ok || v.ID != first.ID || v.User != "U1" || v.Type != ViewHome || v.Updates != 1 || !strings.Contains(string(v.Blocks), "1001") {
		t.Errorf("HomeView(U1) = %+v, %v", v, ok)
	}
	if _, ok := fake.HomeView("U2"); ok {
		t.Errorf("U2 has a home tab nobody published")
	}
	if len(fake.OpenViews("U1")) != 0 {
		t.Errorf("a home tab counts as an open modal")
	}
	modal := home("x")
	modal.Type = slack.VTModal
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U2", View: modal})
	if se, ok := slackError(err); !ok || se.Err != "invalid_arguments" {
		t.Errorf("publishing a modal: %v, want invalid_arguments", err)
	}
}

// An invalid view answers invalid_arguments with Slack's messages, which
// slack-go hands over in the error's ResponseMetadata.
func TestViewsOpenInvalidView(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	trigger := triggerFor(ctx, t, fake, client, "U1")
	form := runjobForm("")
	form.Title = plain("A title longer than twenty-four")
	_, err := client.api.OpenViewContext(ctx, trigger, form)
	se, ok := slackError(err)
	if !ok || se.Err != "invalid_arguments" || len(se.ResponseMetadata.Messages) != 1 ||
		!strings.Contains(se.ResponseMetadata.Messages[0], "[json-pointer:/view/title/text]") {
		t.Fatalf("views.open with a long title: %v (%+v)", err, se.ResponseMetadata)
	}
	// The trigger is still good: the view was refused before it was exchanged.
	if _, err := client.api.OpenViewContext(ctx, trigger, runjobForm("")); err != nil {
		t.Errorf("views.open with the fixed view: %v", err)
	}
}
