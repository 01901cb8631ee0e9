package deliver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/render"
)

// callLog records what OnCall is told, as "method:code".
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (c *callLog) onCall(method, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, method+":"+code)
}

func (c *callLog) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// answerRig is a Poster on the fake Slack, with its calls and log recorded.
type answerRig struct {
	fake   *slacktest.Server
	poster *Poster
	calls  *callLog
	log    *syncBuffer
}

func newAnswerRig(t *testing.T, opts PosterOptions) *answerRig {
	t.Helper()
	fake := slacktest.New(slacktest.Options{})
	t.Cleanup(fake.Close)
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()),
		slack.OptionAppLevelToken(fake.AppToken()),
		slack.OptionHTTPClient(&http.Client{Transport: transport}))
	r := &answerRig{fake: fake, calls: &callLog{}, log: &syncBuffer{}}
	opts.OnCall = r.calls.onCall
	opts.Logger = slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.poster = NewPoster(api, opts)
	return r
}

// responseURL returns the response_url of a slash command user typed in
// channel, as a Socket Mode client receives it.
func (r *answerRig) responseURL(ctx context.Context, t *testing.T, channel, user string) string {
	t.Helper()
	return r.slashCommand(ctx, t, channel, user).ResponseURL
}

// slashCommand is a slash command user typed in channel, as a Socket Mode
// client receives it.
func (r *answerRig) slashCommand(ctx context.Context, t *testing.T, channel, user string) slack.SlashCommand {
	t.Helper()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	api := slack.New(r.fake.BotToken(), slack.OptionAPIURL(r.fake.APIURL()),
		slack.OptionAppLevelToken(r.fake.AppToken()),
		slack.OptionHTTPClient(&http.Client{Transport: transport}))
	sm := socketmode.New(api)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = sm.RunContext(cctx) }()
	defer func() { cancel(); <-done }()
	if err := r.fake.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fake.SendSlashCommand(ctx, slacktest.SlashCommand{ChannelID: channel, UserID: user, Text: "status"}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case evt := <-sm.Events:
			if evt.Type != socketmode.EventTypeSlashCommand {
				continue
			}
			cmd, ok := evt.Data.(slack.SlashCommand)
			if !ok || cmd.ResponseURL == "" {
				t.Fatalf("slash command without a response_url: %#v", evt.Data)
			}
			sm.Ack(*evt.Request)
			return cmd
		case <-ctx.Done():
			t.Fatal("no slash command arrived")
		}
	}
}

func TestViewsAreCountedAndRetriedWhenSafe(t *testing.T) {
	r := newAnswerRig(t, PosterOptions{})
	ctx := answerContext(t)
	cmd := r.slashCommand(ctx, t, "C1", "U1")
	view := render.FormView(render.Form{Metadata: "m"})
	r.fake.RateLimitNext("views.open", 1, 0)
	v, err := r.poster.OpenView(ctx, cmd.TriggerID, view)
	if err != nil || v == nil || v.ID == "" {
		t.Fatalf("OpenView = %+v, %v", v, err)
	}
	// A stale hash is refused and not retried; a transient failure of an
	// update is (the same view twice shows the same thing).
	if err := r.poster.UpdateView(ctx, v.ID, "stale", view); SlackErrorCode(err) != "hash_conflict" {
		t.Errorf("UpdateView with a stale hash: %v", err)
	}
	r.fake.FailNext("views.update", 1, "internal_error")
	if err := r.poster.UpdateView(ctx, v.ID, v.Hash, view); err != nil {
		t.Errorf("UpdateView: %v", err)
	}
	want := []string{"views.open:ratelimited", "views.open:", "views.update:hash_conflict", "views.update:internal_error", "views.update:"}
	if got := r.calls.get(); !slices.Equal(got, want) {
		t.Errorf("OnCall saw %v, want %v", got, want)
	}
	// A trigger is good once: the second open is refused, not retried.
	if _, err := r.poster.OpenView(ctx, cmd.TriggerID, view); SlackErrorCode(err) != "exchanged_trigger_id" {
		t.Errorf("a second OpenView with the trigger: %v", err)
	}
}

// noURL fails the test when the response_url shows in the log or in err.
func (r *answerRig) noURL(t *testing.T, url string, err error) {
	t.Helper()
	if strings.Contains(r.log.String(), url) {
		t.Errorf("the response_url is in the log:\n%s", r.log.String())
	}
	if err != nil && strings.Contains(err.Error(), url) {
		t.Errorf("the response_url is in the error: %v", err)
	}
}

func answerContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAnswerThroughResponseURL(t *testing.T) {
	r := newAnswerRig(t, PosterOptions{})
	ctx := answerContext(t)
	url := r.responseURL(ctx, t, "C1", "U1")
	long := strings.Repeat("x", 50000)
	err := r.poster.Answer(ctx, Recipient{ResponseURL: url, Channel: "C1", User: "U1"}, render.Message{Text: long}, false)
	if err != nil {
		t.Fatal(err)
	}
	eph := r.fake.Ephemerals("U1")
	if len(eph) != 1 || eph[0].Via != slacktest.ViaResponseURL || eph[0].Text != render.FitText(long) {
		t.Fatalf("ephemerals of U1 = %+v, want one answer through the response_url, its text fitted", eph)
	}
	if n := len(r.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Errorf("%d chat.postEphemeral calls, want none", n)
	}
	if got := r.calls.get(); !slices.Equal(got, []string{"response_url:"}) {
		t.Errorf("OnCall saw %v", got)
	}
	r.noURL(t, url, err)
}

// A response_url that fails is not posted to again (Slack may have shown
// the answer): the answer goes out as an ephemeral message instead.
func TestAnswerFallsBackToEphemeral(t *testing.T) {
	r := newAnswerRig(t, PosterOptions{})
	ctx := answerContext(t)
	url := r.responseURL(ctx, t, "C1", "U1")
	r.fake.FailNext("response_url", 1, "expired_url")
	err := r.poster.Answer(ctx, Recipient{ResponseURL: url, Channel: "C1", User: "U1"}, render.Message{Text: "done"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.fake.Calls("response_url")); n != 1 {
		t.Errorf("%d response_url posts, want 1 (a failure is not retried)", n)
	}
	eph := r.fake.Ephemerals("U1")
	if len(eph) != 1 || eph[0].Via != slacktest.ViaPostEphemeral || eph[0].Channel != "C1" || eph[0].Text != "done" {
		t.Fatalf("ephemerals of U1 = %+v, want one chat.postEphemeral in C1", eph)
	}
	if got := r.calls.get(); !slices.Equal(got, []string{"response_url:http_404", "chat.postEphemeral:"}) {
		t.Errorf("OnCall saw %v", got)
	}
	if !strings.Contains(r.log.String(), "answer through response_url failed") {
		t.Errorf("the failed response_url post is not logged:\n%s", r.log.String())
	}
	r.noURL(t, url, err)
}

// A response_url post whose answer was lost may have been shown: it is
// not retried, and neither is an ephemeral message Slack failed on. The
// error says why, without the response_url.
func TestAnswerPostThatMayHaveBeenShownIsNotRetried(t *testing.T) {
	r := newAnswerRig(t, PosterOptions{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	ctx := answerContext(t)
	url := r.responseURL(ctx, t, "C1", "U1")
	r.fake.SetLatency("response_url", time.Second)
	r.fake.FailNext("chat.postEphemeral", 1, "internal_error")
	err := r.poster.Answer(ctx, Recipient{ResponseURL: url, Channel: "C1", User: "U1"}, render.Message{Text: "done"}, false)
	if err == nil {
		t.Fatal("Answer succeeded, want both failures")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("error %q does not unwrap to the timeout", err)
	}
	if err := r.fake.Wait(ctx, func(s *slacktest.Snapshot) bool { return len(s.Calls("response_url")) >= 1 }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a retry would have been sent by now
	if n := len(r.fake.Calls("response_url")); n != 1 {
		t.Errorf("%d response_url posts, want 1", n)
	}
	if n := len(r.fake.Calls("chat.postEphemeral")); n != 1 {
		t.Errorf("%d chat.postEphemeral calls, want 1", n)
	}
	if got := r.calls.get(); !slices.Equal(got, []string{"response_url:error", "chat.postEphemeral:internal_error"}) {
		t.Errorf("OnCall saw %v", got)
	}
	r.noURL(t, url, err)
}

// A 429 means nothing was shown: both kinds of answer wait it out and try
// again.
func TestAnswerRateLimitedIsRetried(t *testing.T) {
	r := newAnswerRig(t, PosterOptions{})
	ctx := answerContext(t)
	url := r.responseURL(ctx, t, "C1", "U1")
	r.fake.RateLimitNext("response_url", 1, 0)
	if err := r.poster.Answer(ctx, Recipient{ResponseURL: url, Channel: "C1", User: "U1"}, render.Message{Text: "one"}, false); err != nil {
		t.Fatal(err)
	}
	r.fake.RateLimitNext("chat.postEphemeral", 1, 0)
	if err := r.poster.Answer(ctx, Recipient{Channel: "C1", User: "U1"}, render.Message{Text: "two"}, false); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range r.fake.Ephemerals("U1") {
		got = append(got, m.Via+":"+m.Text)
	}
	if want := []string{"response_url:one", "chat.postEphemeral:two"}; !slices.Equal(got, want) {
		t.Errorf("ephemerals of U1 = %v, want %v", got, want)
	}
	want := []string{"response_url:ratelimited", "response_url:", "chat.postEphemeral:ratelimited", "chat.postEphemeral:"}
	if got := r.calls.get(); !slices.Equal(got, want) {
		t.Errorf("OnCall saw %v, want %v", got, want)
	}
	r.noURL(t, url, nil)
}

func TestUserGroupMembersRetriesAfter429(t *testing.T) {
	r := newAnswerRig(t, PosterOptions{})
	ctx := answerContext(t)
	r.fake.SetUserGroup("S1", []string{"U1", "U2"})
	r.fake.RateLimitNext("usergroups.users.list", 1, 0)
	members, err := r.poster.UserGroupMembers(ctx, "S1")
	if err != nil || !slices.Equal(members, []string{"U1", "U2"}) {
		t.Fatalf("UserGroupMembers(S1) = %v, %v", members, err)
	}
	if n := len(r.fake.Calls("usergroups.users.list")); n != 2 {
		t.Errorf("%d usergroups.users.list calls, want 2", n)
	}
	if got, want := r.calls.get(), []string{"usergroups.users.list:ratelimited", "usergroups.users.list:"}; !slices.Equal(got, want) {
		t.Errorf("OnCall saw %v, want %v", got, want)
	}
	if _, err := r.poster.UserGroupMembers(ctx, "S404"); SlackErrorCode(err) != "no_such_subteam" {
		t.Errorf("UserGroupMembers(S404) = %v, want no_such_subteam", err)
	}
}

// The budgets pace group lookups under a workspace budget of their own;
// answers spend none.
func TestBudgetsOfAnswersAndLookups(t *testing.T) {
	b := &Budgets{}
	for method, want := range map[string]string{
		"usergroups.users.list": budgetGroups,
		"chat.postEphemeral":    "",
		"response_url":          "",
	} {
		if name, _ := b.budgetOf(method, "C1"); name != want {
			t.Errorf("budget of %s = %q, want %q", method, name, want)
		}
	}
}
