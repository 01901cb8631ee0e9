package slacktest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func isRateLimited(err error, retryAfter time.Duration) bool {
	var rl *slack.RateLimitedError
	return errors.As(err, &rl) && rl.RetryAfter == retryAfter
}

// With limits on, the fake answers like Slack beyond them: 429, a
// Retry-After in whole seconds, ratelimited, and nothing stored; posts are
// limited per channel, updates for the workspace; calls inside a
// Retry-After are reported.
func TestLimitsAnswer429WithRetryAfter(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{Limits: &Limits{PostPerSecond: 0.2, PostBurst: 2, UpdatePerMinute: 60, UpdateBurst: 1}})
	api := newAPI(t, fake, fake.BotToken())
	post := func(ch string) (string, error) {
		_, ts, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("x", false))
		return ts, err
	}
	for i := range 2 {
		if _, err := post("C1"); err != nil {
			t.Fatalf("post %d within the burst: %v", i, err)
		}
	}
	if _, err := post("C1"); !isRateLimited(err, 5*time.Second) {
		t.Fatalf("third post at once: %v, want a 429 with Retry-After 5s", err)
	}
	if n := len(fake.Messages()); n != 2 {
		t.Errorf("%d messages stored, want 2 (a limited post stores nothing)", n)
	}
	ts, err := post("C2")
	if err != nil {
		t.Fatalf("post to another channel: %v", err)
	}
	if v := fake.Snapshot().RetryAfterViolations(); len(v) != 0 {
		t.Errorf("violations before any call inside a Retry-After: %v", v)
	}

	if _, _, _, err := api.UpdateMessageContext(ctx, "C2", ts, slack.MsgOptionText("y", false)); err != nil {
		t.Fatalf("first update: %v", err)
	}
	// The update limit is the workspace's: another channel is limited too.
	// Sent raw, to see Slack's wire format.
	form := url.Values{"token": {fake.BotToken()}, "channel": {"C1"}, "ts": {ts}, "text": {"z"}}
	resp, err := http.PostForm(fake.APIURL()+"chat.update", form)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
		body["ok"] != false || body["error"] != "ratelimited" {
		t.Errorf("second update at once: %d Retry-After %q %v, want 429, 1, ok false, ratelimited",
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}

	// A client that does not wait is caught (past the allowance for calls
	// already in flight).
	time.Sleep(inFlight + 50*time.Millisecond)
	if _, err := post("C1"); err == nil {
		t.Error("a post inside the Retry-After went through")
	}
	v := fake.Snapshot().RetryAfterViolations()
	if len(v) != 1 || v[0].Call.Method != "chat.postMessage" || v[0].Call.Params.Get("channel") != "C1" {
		t.Fatalf("violations = %v, want the post to C1", v)
	}
	if !strings.Contains(v[0].String(), "Retry-After 5s") {
		t.Errorf("violation reads %q", v[0])
	}

	// Waiting as told works, and is no violation.
	time.Sleep(time.Second)
	if _, _, _, err := api.UpdateMessageContext(ctx, "C2", ts, slack.MsgOptionText("w", false)); err != nil {
		t.Errorf("update after its Retry-After: %v", err)
	}
	if n := len(fake.Snapshot().RetryAfterViolations()); n != 1 {
		t.Errorf("%d violations, want still 1", n)
	}

	fake.SetLimits(nil)
	for i := range 5 {
		if _, err := post("C3"); err != nil {
			t.Fatalf("post %d with limits off: %v", i, err)
		}
	}
}

// conversations.replies is limited for the workspace like chat.update, and
// a lookup inside its Retry-After is reported.
func TestLimitsRepliesLookups(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{Limits: &Limits{RepliesPerMinute: 30, RepliesBurst: 2}})
	api := newAPI(t, fake, fake.BotToken())
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(ch string) error {
		_, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: ts})
		return err
	}
	for i := range 2 {
		if err := lookup("C1"); err != nil {
			t.Fatalf("lookup %d within the burst: %v", i, err)
		}
	}
	if err := lookup("C2"); !isRateLimited(err, 2*time.Second) {
		t.Fatalf("third lookup at once, in another channel: %v, want a 429 with Retry-After 2s", err)
	}
	time.Sleep(inFlight + 50*time.Millisecond)
	if err := lookup("C1"); err == nil {
		t.Error("a lookup inside the Retry-After went through")
	}
	v := fake.Snapshot().RetryAfterViolations()
	if len(v) != 1 || v[0].Call.Method != "conversations.replies" {
		t.Errorf("violations = %v, want the lookup inside the Retry-After", v)
	}
	if d := DefaultLimits(); d.RepliesPerMinute != 50 {
		t.Errorf("default conversations.replies limit %v a minute, want Slack's Tier 3 (50)", d.RepliesPerMinute)
	}
}

// Calls that were in flight together with the one answered 429 (two
// replicas posting at once) arrive within the allowance and are no
// violation: the client could not have seen the 429 yet.
func TestLimitsCallsInFlightAreNoViolation(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{Limits: &Limits{PostPerSecond: 1, PostBurst: 1}})
	api := newAPI(t, fake, fake.BotToken())
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
			errs <- err
		}()
	}
	limited := 0
	for range 3 {
		if err := <-errs; err != nil {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("three posts at once with a burst of 1 were all accepted")
	}
	if v := fake.Snapshot().RetryAfterViolations(); len(v) != 0 {
		t.Errorf("calls in flight together reported as violations: %v", v)
	}
}
