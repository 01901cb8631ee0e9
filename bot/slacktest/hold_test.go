package slacktest

import (
	"context"
	"testing"

	"github.com/slack-go/slack"
)

// A held post waits until released; one whose caller gives up while held
// is carried out all the same (the message is there, its answer lost).
func TestHoldKeepsCallsUntilReleased(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	api := newAPI(t, fake, fake.BotToken())
	release := fake.Hold("chat.postMessage")

	gone, giveUp := context.WithCancel(ctx)
	lost := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessageContext(gone, "C1", slack.MsgOptionText("answer lost", false))
		lost <- err
	}()
	answered := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("answered", false))
		answered <- err
	}()
	if err := fake.WaitHeld(ctx, "chat.postMessage", 2); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Fatalf("%d messages posted while held", n)
	}
	giveUp()
	if err := <-lost; err == nil {
		t.Error("the caller that gave up got an answer")
	}
	if err := fake.Wait(ctx, func(s *Snapshot) bool { return len(s.Messages()) == 1 }); err != nil {
		t.Fatal(err)
	}
	if m := fake.Messages()[0]; m.Text != "answer lost" {
		t.Errorf("posted %q first, want the post whose caller gave up", m.Text)
	}
	if n := fake.Held("chat.postMessage"); n != 1 {
		t.Errorf("%d calls held, want 1", n)
	}
	release()
	if err := <-answered; err != nil {
		t.Fatalf("the held post failed once released: %v", err)
	}
	if n := len(fake.Messages()); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
	// Released for good: later calls are not held.
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("later", false)); err != nil {
		t.Fatal(err)
	}
}
