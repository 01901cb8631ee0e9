package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// notes returns the thread replies of card that contain text.
func notes(s *slacktest.Snapshot, card slacktest.Message, text string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range s.ThreadReplies(card.Channel, card.TS) {
		if strings.Contains(m.Text, text) {
			out = append(out, m)
		}
	}
	return out
}

// waitNote waits for a note with text in card's thread and checks, after
// the bot had time to post another, that there is exactly one.
func (e *e2e) waitNote(card slacktest.Message, text string) slacktest.Message {
	e.t.Helper()
	e.wait("a note with "+text, func(s *slacktest.Snapshot) bool { return len(notes(s, card, text)) > 0 })
	e.settle()
	got := notes(e.slack.Snapshot(), card, text)
	if len(got) != 1 {
		e.t.Fatalf("%d notes with %q, want 1:\n%s", len(got), text, dump(got))
	}
	return got[0]
}

// A run of a preset with max_runtime that goes on longer gets one note in
// its thread, mentioning its runner: also when the bot restarts before the
// threshold, and after the note.
func TestE2ESlowJobGetsOneNoteAcrossRestarts(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.cfg.PolicyFile = writePolicy(t, `
presets:
  nightly:
    cluster: 52
    package: 434
    max_runtime: 2s
`)
	stop := e.startBot()
	e.command("U1", "C1", "nightly")
	e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusRunning)
	card := e.waitCard(1001, "running")
	stop() // before the threshold: the next replica notes it
	stop = e.startBot()
	note := e.waitNote(card, "is still running after")
	if !strings.HasPrefix(note.Text, "<@U1> ") || !strings.Contains(note.Text, "past the 2 s its preset allows") {
		t.Errorf("note = %q, want it to mention U1 and the preset's max runtime", note.Text)
	}
	stop()
	e.startBot()
	e.settle()
	if got := notes(e.slack.Snapshot(), card, "is still running after"); len(got) != 1 {
		t.Errorf("%d slow notes after another restart, want 1", len(got))
	}
	// The note cost no Xplenty call of its own: the watcher only listed
	// changes (no job was unseen long enough to be fetched).
	for _, r := range e.xp.Requests() {
		if r.Method == "GET" && strings.Contains(r.Path, "/jobs/1001") {
			t.Errorf("the watcher fetched job 1001 on its own: %s %s", r.Method, r.Path)
		}
	}
}

// A job queued longer than WATCHDOG_QUEUED_AFTER gets one note.
func TestE2EQueuedJobGetsOneNote(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.cfg.WatchdogQueuedAfter = time.Second
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusQueued)
	card := e.waitCard(1001, "queued")
	note := e.waitNote(card, "has been queued for")
	if !strings.HasPrefix(note.Text, "<@U1> ") || !strings.Contains(note.Text, "waiting for resources on prod-etl (52)") {
		t.Errorf("note = %q", note.Text)
	}
}

// With a completed run in its history, a running job's card says how long
// runs usually take and about how long is left.
func TestE2ERunningCardShowsTheUsualRuntime(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusRunning)
	e.waitCard(1001, "running")
	time.Sleep(1100 * time.Millisecond) // a runtime of 1 s
	e.setStatus(1001, xplenty.StatusCompleted)
	e.waitCard(1001, "completed")

	e.command("U1", "C1", "cluster=52 package=434")
	e.waitCard(1002, "idle")
	e.setStatus(1002, xplenty.StatusRunning)
	if err := e.xp.SetProgress(1002, 0.5); err != nil {
		t.Fatal(err)
	}
	// The runtime is Xplenty's (the fake counts real time, which a loaded
	// machine stretches): the card shows the one the first job reported.
	first, _ := e.xp.Job(1001)
	if first.RuntimeInSeconds < 1 {
		t.Fatalf("job 1001 reported a runtime of %d s", first.RuntimeInSeconds)
	}
	e.waitCard(1002, fmt.Sprintf("usually ~%d s", first.RuntimeInSeconds))
}
