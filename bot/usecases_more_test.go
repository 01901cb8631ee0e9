package bot

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
)

// Over Socket Mode: the envelope is acked, the command runs, and the
// answer reaches the person through the command's response_url; a click on
// the card's Stop button comes back the same way.
func TestUseCaseOverSocketMode(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	api := slack.New(uc.slack.BotToken(), slack.OptionAPIURL(uc.slack.APIURL()), slack.OptionAppLevelToken(uc.slack.AppToken()))
	sock := NewSocketMode(uc.bot, socketmode.New(api))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sock.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = uc.bot.Shutdown(context.Background())
	})
	wait, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	if err := uc.slack.WaitConnections(wait, 1); err != nil {
		t.Fatal(err)
	}
	env, err := uc.slack.SendSlashCommand(wait, slacktest.SlashCommand{UserID: "U1", ChannelID: "C1", Text: "cluster=52 package=434"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uc.slack.WaitAck(wait, env); err != nil {
		t.Fatal(err)
	}
	if !uc.becomes(wait, Started) {
		t.Fatalf("the command did not start a job: last outcome %q", uc.last())
	}
	// The deliverer (not running here) would bring the card up to date,
	// with its buttons.
	rec, err := uc.store.Get(wait, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if err := uc.bot.cfg.Poster.Update(wait, rec.Channel, rec.CardTS, render.Card(rec)); err != nil {
		t.Fatal(err)
	}
	card, _ := uc.slack.Message(rec.Channel, rec.CardTS)
	if !sock.Connected() {
		t.Error("Connected() = false while a connection is up")
	}
	env, err = uc.slack.SendBlockAction(wait, slacktest.BlockAction{UserID: "U2", ChannelID: "C1", MessageTS: card.TS, ActionID: render.ActionStop})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uc.slack.WaitAck(wait, env); err != nil {
		t.Fatal(err)
	}
	if !uc.becomes(wait, Stopped) {
		t.Fatalf("the click was not handled as a stop: last outcome %q", uc.last())
	}
	if j, _ := uc.xp.Job(1001); j.Status == xplenty.StatusRunning || j.Status == xplenty.StatusIdle {
		t.Errorf("job 1001 is %s after Stop", j.Status)
	}
	// The bad-input answer goes through the response_url, not chat.postEphemeral.
	_, err = uc.slack.SendSlashCommand(wait, slacktest.SlashCommand{UserID: "U1", ChannelID: "C1", Text: "stop now"})
	if err != nil {
		t.Fatal(err)
	}
	if err := uc.slack.Wait(wait, func(s *slacktest.Snapshot) bool {
		for _, m := range s.Ephemerals("U1") {
			if m.Via == slacktest.ViaResponseURL && strings.Contains(m.Text, "now") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no answer through the response_url: %v", err)
	}
}

func TestUseCaseHelpListsThePresetsYouMayRun(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{policy: `
presets:
  nightly: {description: Nightly load, cluster: 52, package: 434}
  backfill: {description: Backfill, cluster: 53, package: 434}
rules:
  - name: night
    users: [U1]
    channels: [C1]
    presets: [nightly]
`})
	if got := uc.command(t, "U1", "C1", "help"); got != "help" {
		t.Fatalf("outcome = %q", got)
	}
	a := uc.answer("U1")
	if !strings.Contains(a, "nightly") || strings.Contains(a, "backfill") {
		t.Errorf("help = %q, want nightly and not backfill", a)
	}
	if !strings.Contains(a, "• `nightly` – Nightly load (package 434 on cluster 52)\n") {
		t.Errorf("help = %q, want the preset's line naming its package and cluster by id", a)
	}
	uc.command(t, "U2", "C1", "")
	if a := uc.answer("U2"); strings.Contains(a, "Presets you may run") {
		t.Errorf("help for someone no preset is open to = %q", a)
	}
}

// A run whose answer was lost: the card says the outcome is unknown, the
// bot never runs it again, and it finds the job it started and follows it.
func TestUseCaseLostRunAnswerFindsTheJob(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	uc.xp.DropNextAnswers(1)
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434 DATE=2026-11-01"); got != "started" {
		t.Fatalf("outcome = %q, want started (the job was found)", got)
	}
	jobs := uc.xp.Jobs()
	if len(jobs) != 1 {
		t.Fatalf("Xplenty has %d jobs, want exactly the one", len(jobs))
	}
	rec, err := uc.store.Get(context.Background(), jobs[0].ID)
	if err != nil || rec.CardTS != uc.cards("C1")[0].TS {
		t.Errorf("record = %+v, %v; want the job on the one card", rec, err)
	}
}

func TestUseCaseStopXplentyRefuses(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	uc.command(t, "U1", "C1", "cluster=52 package=434")
	id := strconv.FormatInt(uc.onlyJob(t).ID, 10)
	uc.xp.FailNext(1, 422, "Job cannot be stopped now")
	if got := uc.command(t, "U1", "C1", "stop "+id); got != "refused" {
		t.Fatalf("outcome = %q, want refused", got)
	}
	if a := uc.answer("U1"); !strings.Contains(a, "cannot be stopped now") {
		t.Errorf("answer = %q, want Xplenty's reason", a)
	}
	entries := uc.audit(t)
	last := entries[len(entries)-1]
	if last.Action != "stop" || last.Outcome != "refused" {
		t.Errorf("audit = %+v, want the refused stop last", last)
	}
	// The refusal released the double-click claim: a second try is sent.
	if got := uc.command(t, "U1", "C1", "stop "+id); got != "stopped" {
		t.Errorf("second stop: outcome = %q, want stopped", got)
	}
}

func TestUseCaseClicksThatMakeNoSense(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	for _, tc := range []struct{ action, value string }{
		{"runjob_launch_missiles", "1001"},
		{render.ActionStop, "1001; DROP TABLE"},
		{render.ActionRerun, "-5"},
		{render.ActionConfirm, "no-such-token"},
	} {
		got := uc.click(t, "U1", "C1", tc.action, tc.value)
		if got != "invalid" && got != "expired" {
			t.Errorf("%s %q: outcome = %q, want invalid (expired for a confirmation)", tc.action, tc.value, got)
		}
	}
	if n := uc.xp.RequestCount(); n != 0 {
		t.Errorf("Xplenty got %d requests from clicks that make no sense", n)
	}
}

// becomes reports whether the last outcome becomes o before ctx ends (the
// socket runs commands in goroutines of their own).
func (uc *useCase) becomes(ctx context.Context, o Outcome) bool {
	for uc.last() != o.String() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}

// Show log on a failed job's card posts the job's log in its thread, once
// for a double click or a second person's click, scrubbed of its secrets.
func TestUseCaseShowLogPostsOnce(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	uc.command(t, "U1", "C1", "cluster=52 package=434 DB_PASSWORD=hunter22")
	j := uc.onlyJob(t)
	id := strconv.FormatInt(j.ID, 10)
	if err := uc.xp.SetLog(j.ID, "starting\nERROR: login with hunter22 refused\n"); err != nil {
		t.Fatal(err)
	}
	if got := uc.click(t, "U1", "C1", render.ActionLog, id); got != "posted" {
		t.Fatalf("outcome = %q, want posted; answer %q", got, uc.answer("U1"))
	}
	if got := uc.click(t, "U1", "C1", render.ActionLog, id); got != "duplicate" {
		t.Errorf("double click: outcome = %q, want duplicate", got)
	}
	if got := uc.click(t, "U2", "C1", render.ActionLog, id); got != "duplicate" {
		t.Errorf("another person's click: outcome = %q, want duplicate", got)
	}
	rec, _ := uc.store.Get(context.Background(), j.ID)
	replies := uc.slack.ThreadReplies("C1", rec.CardTS)
	if len(replies) != 1 {
		t.Fatalf("%d posts in the thread, want the one log", len(replies))
	}
	all := replies[0].Text + string(replies[0].Blocks)
	if !strings.Contains(all, "ERROR: login with") || strings.Contains(all, "hunter22") {
		t.Errorf("log post = %s, want the log with its secret masked", all)
	}
	if got := uc.click(t, "U1", "C2", render.ActionLog, id); got != "denied" {
		t.Errorf("from another channel: outcome = %q, want denied", got)
	}
}

// When Xplenty cannot give the log, the person is told, and the next click
// tries again.
func TestUseCaseShowLogXplentyFails(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	uc.command(t, "U1", "C1", "cluster=52 package=434")
	id := strconv.FormatInt(uc.onlyJob(t).ID, 10)
	uc.xp.FailNext(1, 422, "Log not available yet")
	if got := uc.click(t, "U1", "C1", render.ActionLog, id); got != "refused" {
		t.Fatalf("outcome = %q, want refused", got)
	}
	if a := uc.answer("U1"); !strings.Contains(a, "could not get the log") {
		t.Errorf("answer = %q", a)
	}
	if got := uc.click(t, "U1", "C1", render.ActionLog, id); got != "posted" {
		t.Errorf("next click: outcome = %q, want posted", got)
	}
}
