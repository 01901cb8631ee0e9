package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func TestHelloAndSlashCommand(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := startClient(t, fake)

	hello := client.next(ctx, t, socketmode.EventTypeHello)
	if hello.Request == nil || hello.Request.NumConnections != 1 || hello.Request.ConnectionInfo.AppID != AppID ||
		hello.Request.DebugInfo.Host == "" {
		t.Errorf("hello request = %+v", hello.Request)
	}
	if err := fake.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}

	fake.SetUserName("U1", "alice")
	id, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1", Text: "cluster=52 package=434"})
	if err != nil {
		t.Fatalf("SendSlashCommand: %v", err)
	}
	evt := client.next(ctx, t, socketmode.EventTypeSlashCommand)
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		t.Fatalf("event data is %T", evt.Data)
	}
	if evt.Request.EnvelopeID != id || !evt.Request.AcceptsResponsePayload || evt.Request.RetryAttempt != 0 {
		t.Errorf("request = %+v", evt.Request)
	}
	if cmd.Command != "/runjob" || cmd.Text != "cluster=52 package=434" || cmd.UserID != "U1" || cmd.UserName != "alice" ||
		cmd.ChannelID != "C1" || cmd.TeamID != TeamID || cmd.APIAppID != AppID || cmd.TriggerID == "" ||
		!strings.HasPrefix(cmd.ResponseURL, "http://") {
		t.Errorf("slash command = %+v", cmd)
	}

	// An ack with a payload is shown to the user, like Slack does for commands.
	if err := client.sm.Ack(*evt.Request, map[string]any{"text": "Starting job…"}); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	ack, err := fake.WaitAck(ctx, id)
	if err != nil {
		t.Fatalf("WaitAck: %v", err)
	}
	if ack.EnvelopeID != id || ack.SentAt.IsZero() || ack.AckedAt.Before(ack.SentAt) || ack.Conn != 1 ||
		!strings.Contains(string(ack.Payload), "Starting job") {
		t.Errorf("ack = %+v", ack)
	}
	eph := fake.Ephemerals("U1")
	if len(eph) != 1 || eph[0].Text != "Starting job…" || eph[0].Via != ViaAck || eph[0].Channel != "C1" {
		t.Errorf("ephemerals after the ack = %+v", eph)
	}

	// The response_url takes slack-go's webhook and chat.responseURL posts.
	if err := slack.PostWebhookContext(ctx, cmd.ResponseURL, &slack.WebhookMessage{Text: "Unknown token `pkg`"}); err != nil {
		t.Fatalf("PostWebhook: %v", err)
	}
	_, _, err = client.api.PostMessageContext(ctx, cmd.ChannelID, slack.MsgOptionText("Job 1001 started", false),
		slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeEphemeral))
	if err != nil {
		t.Fatalf("PostMessage to the response_url: %v (calls %+v)", err, fake.Calls(ViaResponseURL))
	}
	eph = fake.Ephemerals("U1")
	if len(eph) != 3 || eph[1].Text != "Unknown token `pkg`" || eph[1].Via != ViaResponseURL || eph[2].Text != "Job 1001 started" {
		t.Errorf("ephemerals after response_url posts = %+v", eph)
	}
	if calls := fake.Calls(ViaResponseURL); len(calls) != 2 || calls[0].Params.Get("replace_original") != "false" {
		t.Errorf("response_url calls = %+v", calls)
	}
	if problems := client.problemEvents(); len(problems) != 0 {
		t.Errorf("client reported %v", problems)
	}
}

func TestBlockActionAndRedelivery(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)

	_, cardTS, err := client.api.PostMessageContext(ctx, "C1", slack.MsgOptionText("Job 1001 running", false),
		slack.MsgOptionBlocks(cardBlocks("1001")...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.SendBlockAction(ctx, BlockAction{UserID: "U1", ChannelID: "C1", MessageTS: cardTS, ActionID: "runjob_nope"}); err == nil {
		t.Errorf("click on a button the card does not have: no error")
	}
	id, err := fake.SendBlockAction(ctx, BlockAction{UserID: "U1", ChannelID: "C1", MessageTS: cardTS, ActionID: "runjob_stop"})
	if err != nil {
		t.Fatalf("SendBlockAction: %v", err)
	}
	evt := client.next(ctx, t, socketmode.EventTypeInteractive)
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok {
		t.Fatalf("event data is %T", evt.Data)
	}
	if evt.Request.EnvelopeID != id || evt.Request.AcceptsResponsePayload {
		t.Errorf("request = %+v", evt.Request)
	}
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U1" || cb.Channel.ID != "C1" || cb.Team.ID != TeamID ||
		cb.Container.Type != "message" || cb.Container.MessageTs != cardTS || cb.Container.ChannelID != "C1" ||
		cb.Message.Timestamp != cardTS || len(cb.Message.Blocks.BlockSet) != 2 || cb.ResponseURL == "" || cb.TriggerID == "" {
		t.Errorf("callback = %+v", cb)
	}
	if len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("block actions = %+v", cb.ActionCallback)
	}
	action := cb.ActionCallback.BlockActions[0]
	if action.ActionID != "runjob_stop" || action.Value != "1001" || action.BlockID == "" || action.Type != "button" ||
		action.Text.Text != "Stop" || action.ActionTs == "" {
		t.Errorf("action = %+v", action)
	}

	// Not acked: Slack redelivers the same envelope id with retry_attempt 1.
	if err := fake.Redeliver(ctx, id); err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	again := client.next(ctx, t, socketmode.EventTypeInteractive)
	if again.Request.EnvelopeID != id || again.Request.RetryAttempt != 1 || again.Request.RetryReason != "timeout" ||
		string(again.Request.Payload) != string(evt.Request.Payload) {
		t.Errorf("redelivered request = %+v", again.Request)
	}
	if err := client.sm.Ack(*again.Request); err != nil {
		t.Fatal(err)
	}
	ack, err := fake.WaitAck(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ack.RetryAttempt != 1 || ack.Payload != nil {
		t.Errorf("ack = %+v", ack)
	}
	envs := fake.Envelopes()
	if len(envs) != 1 || len(envs[0].Deliveries) != 2 || !envs[0].Acked || envs[0].Type != TypeInteractive {
		t.Errorf("envelopes = %+v", envs)
	}

	// replace_original through the action's response_url edits the card.
	err = slack.PostWebhookContext(ctx, cb.ResponseURL, &slack.WebhookMessage{Text: "Job 1001 stopping", ReplaceOriginal: true})
	if err != nil {
		t.Fatalf("PostWebhook: %v", err)
	}
	card, _ := fake.Message("C1", cardTS)
	if card.Text != "Job 1001 stopping" || card.Updates != 1 || card.History[1].Via != ViaResponseURL {
		t.Errorf("card after replace_original = %+v", card)
	}
}

func TestAutoRedeliver(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	fake.SetAutoRedeliver(10 * time.Millisecond)

	id, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for want := range 2 {
		evt := client.next(ctx, t, socketmode.EventTypeSlashCommand)
		if evt.Request.EnvelopeID != id || evt.Request.RetryAttempt != want {
			t.Errorf("delivery %d: envelope %q attempt %d", want, evt.Request.EnvelopeID, evt.Request.RetryAttempt)
		}
		if want == 1 {
			if err := client.sm.Ack(*evt.Request); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := fake.WaitAck(ctx, id); err != nil {
		t.Fatal(err)
	}
	// Once acked, the envelope is not sent again: a later envelope is the next event.
	next, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1", Text: "y"})
	if err != nil {
		t.Fatal(err)
	}
	evt := client.next(ctx, t, socketmode.EventTypeSlashCommand)
	if evt.Request.EnvelopeID != next {
		t.Errorf("after the ack got envelope %q attempt %d, want %q", evt.Request.EnvelopeID, evt.Request.RetryAttempt, next)
	}
	_ = client.sm.Ack(*evt.Request)
}

func TestReplicasRoundRobinAndBroadcast(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	a := connectedClient(ctx, t, fake)
	b := connectedClient(ctx, t, fake)

	for i := range 4 {
		if _, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1", Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*botClient{a, b} {
		for range 2 {
			evt := c.next(ctx, t, socketmode.EventTypeSlashCommand)
			_ = c.sm.Ack(*evt.Request)
		}
	}
	conns := map[int]int{}
	for _, e := range fake.Envelopes() {
		conns[e.Deliveries[0].Conn]++
	}
	if len(conns) != 2 || conns[1] != 2 || conns[2] != 2 {
		t.Errorf("deliveries per connection = %v, want 2 each", conns)
	}

	id, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1", Text: "dup"})
	if err != nil {
		t.Fatal(err)
	}
	first := a
	if fake.Envelopes()[4].Deliveries[0].Conn == 2 {
		first = b
	}
	_ = first.next(ctx, t, socketmode.EventTypeSlashCommand)
	if err := fake.Broadcast(ctx, id); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	for _, c := range []*botClient{a, b} {
		if evt := c.next(ctx, t, socketmode.EventTypeSlashCommand); evt.Request.EnvelopeID != id {
			t.Errorf("broadcast delivered %q, want %q", evt.Request.EnvelopeID, id)
		}
	}
}

func TestClientSurvivesPings(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{PingInterval: 10 * time.Millisecond})
	// The client gives up on a socket not pinged for 400 ms; it must stay on one
	// connection through many of those windows.
	client := connectedClient(ctx, t, fake, socketmode.OptionPingInterval(400*time.Millisecond))
	err := fake.Wait(ctx, func(s *Snapshot) bool { return s.Pongs() >= 100 })
	if err != nil {
		t.Fatal(err)
	}
	snap := fake.Snapshot()
	if snap.Connects() != 1 || snap.Connections() != 1 {
		t.Errorf("connects %d, open %d; want one connection throughout", snap.Connects(), snap.Connections())
	}
	if problems := client.problemEvents(); len(problems) != 0 {
		t.Errorf("client reported %v", problems)
	}
}

func TestClientReconnectsWithoutPings(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{PingInterval: time.Hour})
	connectedClient(ctx, t, fake, socketmode.OptionPingInterval(50*time.Millisecond))
	// No pings: slack-go declares the socket dead and opens a new one.
	if err := fake.Wait(ctx, func(s *Snapshot) bool { return s.Connects() >= 2 }); err != nil {
		t.Fatal(err)
	}
}

func TestDisconnectAndDrop(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)

	fake.SendDisconnect("refresh_requested")
	if err := fake.Wait(ctx, func(s *Snapshot) bool { return s.Connects() == 2 && s.Connections() == 1 }); err != nil {
		t.Fatalf("reconnect after disconnect: %v", err)
	}
	fake.DropConnections()
	if err := fake.Wait(ctx, func(s *Snapshot) bool { return s.Connects() == 3 && s.Connections() == 1 }); err != nil {
		t.Fatalf("reconnect after drop: %v", err)
	}
	id, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if evt := client.next(ctx, t, socketmode.EventTypeSlashCommand); evt.Request.EnvelopeID != id {
		t.Errorf("got envelope %q, want %q", evt.Request.EnvelopeID, id)
	}
}

func TestNoConnection(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	if _, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1"}); !errors.Is(err, ErrNoConnection) {
		t.Errorf("SendSlashCommand without a client: %v, want ErrNoConnection", err)
	}
	fake.Close()
	if err := fake.WaitConnections(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitConnections after Close: %v, want ErrClosed", err)
	}
}

func TestBurst(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)

	const n = 60
	acked := make(chan error, 1)
	go func() {
		for got := 0; got < n; {
			select {
			case evt := <-client.events:
				if evt.Type != socketmode.EventTypeSlashCommand {
					continue
				}
				got++
				if err := client.sm.Ack(*evt.Request); err != nil {
					acked <- err
					return
				}
			case <-ctx.Done():
				acked <- ctx.Err()
				return
			}
		}
		acked <- nil
	}()
	errc := make(chan error, n)
	for i := range n {
		go func() {
			_, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1", Text: fmt.Sprint(i)})
			errc <- err
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Errorf("SendSlashCommand: %v", err)
		}
	}
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
	if err := fake.Wait(ctx, func(s *Snapshot) bool { return len(s.Acks()) == n }); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range fake.Acks() {
		seen[a.EnvelopeID] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct envelopes acked, want %d", len(seen), n)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	ctx := testContext(t)
	fake := New(Options{PingInterval: 5 * time.Millisecond})
	t.Cleanup(fake.Close) // for early failures; Close is idempotent
	client := connectedClient(ctx, t, fake)
	fake.SetAutoRedeliver(time.Hour) // a pending timer
	if _, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1"}); err != nil {
		t.Fatal(err)
	}
	client.next(ctx, t, socketmode.EventTypeSlashCommand)
	// A request stuck in the fake's latency when it closes.
	fake.SetLatency("chat.postMessage", time.Hour)
	posted := make(chan error, 1)
	go func() {
		_, _, err := client.api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
		posted <- err
	}()
	// Goroutines have no events to wait on, so this polls.
	for countStacks("slacktest.(*Server).sleep") == 0 {
		if ctx.Err() != nil {
			t.Fatalf("the request never reached the fake")
		}
		time.Sleep(5 * time.Millisecond)
	}

	fake.Close()
	<-posted
	client.stop()

	// Close has waited for its goroutines; give the runtime until the deadline to
	// retire the ones net/http parks on closed connections.
	for _, pattern := range []string{"slacktest.(*Server)", "slacktest.(*wsConn)", "net/http.(*conn).serve"} {
		for countStacks(pattern) > 0 {
			if ctx.Err() != nil {
				t.Fatalf("goroutines left after Close:\n%s", stacks(pattern))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func stacks(pattern string) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, pattern) {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

func countStacks(pattern string) int {
	s := stacks(pattern)
	if s == "" {
		return 0
	}
	return strings.Count(s, "goroutine ")
}

// The payload types must decode into slack-go's types exactly; this also pins
// the wire field names.
func TestWireFormats(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	if _, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	evt := client.next(ctx, t, socketmode.EventTypeSlashCommand)
	var fields map[string]any
	if err := json.Unmarshal(evt.Request.Payload, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
		"command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("slash command payload has no %q", k)
		}
	}
	// Real Socket Mode slash payloads carry it as a string (slack-go #1265).
	if fields["is_enterprise_install"] != "false" {
		t.Errorf("is_enterprise_install = %#v, want \"false\" (a JSON string)", fields["is_enterprise_install"])
	}
	// slack-go still decodes the payload, string and all.
	if cmd, ok := evt.Data.(slack.SlashCommand); !ok || cmd.IsEnterpriseInstall || cmd.Text != "x" {
		t.Errorf("event data = %#v, want a slack.SlashCommand with text x", evt.Data)
	}
	_ = client.sm.Ack(*evt.Request)
	if err := fake.Wait(ctx, func(s *Snapshot) bool { return len(s.Acks()) == 1 }); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.WaitAck(context.Background(), evt.Request.EnvelopeID); err != nil {
		t.Fatal(err)
	}
}

func TestResponseURLRules(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)

	if _, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1", Text: "help"}); err != nil {
		t.Fatal(err)
	}
	evt := client.next(ctx, t, socketmode.EventTypeSlashCommand)
	_ = client.sm.Ack(*evt.Request)
	url := evt.Data.(slack.SlashCommand).ResponseURL

	// in_channel posts a channel message; replace_original then edits the last
	// message posted through the URL.
	if err := slack.PostWebhookContext(ctx, url, &slack.WebhookMessage{Text: "Job 1001 started", ResponseType: slack.ResponseTypeInChannel}); err != nil {
		t.Fatal(err)
	}
	if err := slack.PostWebhookContext(ctx, url, &slack.WebhookMessage{Text: "Job 1001 running", ReplaceOriginal: true}); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].Ephemeral || msgs[0].Channel != "C1" || msgs[0].Text != "Job 1001 running" || msgs[0].Updates != 1 {
		t.Errorf("messages = %+v", msgs)
	}
	for i := range 3 {
		if err := slack.PostWebhookContext(ctx, url, &slack.WebhookMessage{Text: fmt.Sprint(i)}); err != nil {
			t.Fatalf("use %d: %v", i+3, err)
		}
	}
	// Slack allows five uses of a response_url.
	err := slack.PostWebhookContext(ctx, url, &slack.WebhookMessage{Text: "sixth"})
	var code slack.StatusCodeError
	if !errors.As(err, &code) || code.Code != http.StatusNotFound {
		t.Errorf("sixth use: %v, want HTTP 404", err)
	}
	if calls := fake.Calls(ViaResponseURL); len(calls) != 6 || calls[5].Error != "used_url" {
		t.Errorf("response_url calls = %+v", calls)
	}
	if err := slack.PostWebhookContext(ctx, url+"404", &slack.WebhookMessage{Text: "x"}); !errors.As(err, &code) || code.Code != http.StatusNotFound {
		t.Errorf("unknown response_url: %v, want HTTP 404", err)
	}
}

func TestBlockActionOnEphemeral(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	ts, err := client.api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("Run job?", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("confirm", slack.NewButtonBlockElement("runjob_rerun", "1001",
			slack.NewTextBlockObject(slack.PlainTextType, "Re-run", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.SendBlockAction(ctx, BlockAction{UserID: "U2", ChannelID: "C1", MessageTS: ts, ActionID: "runjob_rerun"}); err == nil {
		t.Errorf("U2 clicked on U1's ephemeral message")
	}
	if _, err := fake.SendBlockAction(ctx, BlockAction{UserID: "U1", ChannelID: "C1", MessageTS: ts, ActionID: "runjob_rerun"}); err != nil {
		t.Fatal(err)
	}
	cb := client.next(ctx, t, socketmode.EventTypeInteractive).Data.(slack.InteractionCallback)
	if !cb.Container.IsEphemeral || cb.Message.Timestamp != "" || cb.ActionCallback.BlockActions[0].BlockID != "confirm" {
		t.Errorf("callback on ephemeral = container %+v, message ts %q, actions %+v", cb.Container, cb.Message.Timestamp, cb.ActionCallback.BlockActions)
	}
	if err := slack.PostWebhookContext(ctx, cb.ResponseURL, &slack.WebhookMessage{DeleteOriginal: true}); err != nil {
		t.Fatal(err)
	}
	if m, _ := fake.Message("C1", ts); !m.Deleted {
		t.Errorf("ephemeral not deleted by delete_original: %+v", m)
	}
}

func BenchmarkSlashCommandAck(b *testing.B) {
	fake := New(Options{})
	defer fake.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()), slack.OptionAppLevelToken(fake.AppToken()))
	sm := socketmode.New(api)
	go func() { _ = sm.RunContext(ctx) }()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-sm.Events:
				if evt.Request != nil && evt.Type == socketmode.EventTypeSlashCommand {
					_ = sm.Ack(*evt.Request)
				}
			}
		}
	}()
	if err := fake.WaitConnections(ctx, 1); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		id, err := fake.SendSlashCommand(ctx, SlashCommand{UserID: "U1", ChannelID: "C1", Text: "x"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fake.WaitAck(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// Slack escapes &, < and > in what the user typed; Raw sends text verbatim,
// for tests that inject Slack's markup.
func TestSlashCommandTextEscaping(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	client := connectedClient(ctx, t, fake)
	tests := []struct {
		cmd  SlashCommand
		want string
	}{
		{SlashCommand{UserID: "U1", ChannelID: "C1", Text: `Q="a&b" R=<x> S=&lt; T=a>b`},
			`Q="a&amp;b" R=&lt;x&gt; S=&amp;lt; T=a&gt;b`},
		{SlashCommand{UserID: "U1", ChannelID: "C1", Text: `cluster=52 package=434 "quotes" 'stay' @here`},
			`cluster=52 package=434 "quotes" 'stay' @here`},
		{SlashCommand{UserID: "U1", ChannelID: "C1", Raw: true, Text: `HOST=<http://db.example.com|db.example.com> A=&amp;`},
			`HOST=<http://db.example.com|db.example.com> A=&amp;`},
	}
	for _, tt := range tests {
		if _, err := fake.SendSlashCommand(ctx, tt.cmd); err != nil {
			t.Fatal(err)
		}
		evt := client.next(ctx, t, socketmode.EventTypeSlashCommand)
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			t.Fatalf("event data is %T", evt.Data)
		}
		if cmd.Text != tt.want {
			t.Errorf("text %q (raw %v) arrived as %q, want %q", tt.cmd.Text, tt.cmd.Raw, cmd.Text, tt.want)
		}
		_ = client.sm.Ack(*evt.Request)
	}
	if got := EscapeText("a&b<c>d &amp;"); got != "a&amp;b&lt;c&gt;d &amp;amp;" {
		t.Errorf("EscapeText = %q", got)
	}
}
