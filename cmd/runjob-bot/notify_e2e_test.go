package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// What each channel hears (/runjob notify), end to end: the setting is
// changed by a command, kept in Redis, and the deliverer posts (or leaves
// out, or sends elsewhere) the replies by it.

// waitDealtWith waits until the reply to job id for status is marked
// delivered: posted, sent as a direct message, or left out.
func (e *e2e) waitDealtWith(id int64, status xplenty.Status) {
	e.t.Helper()
	key := fmt.Sprintf("%sdelivered:%d:%s", e.cfg.RedisPrefix, id, status)
	deadline := time.Now().Add(waitLimit)
	for {
		n, err := e.rdb.Exists(context.Background(), key).Result()
		if err == nil && n == 1 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the reply to job %d (%s) was not dealt with: %v\nmessages:\n%s", id, status, err, dump(e.slack.Messages()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runJob starts a job as U1 in channel, waits for its card and returns it.
func (e *e2e) runJob(channel string, id int64) slacktest.Message {
	e.t.Helper()
	e.command("U1", channel, "cluster=52 package=434")
	return e.waitCard(id, "idle")
}

// endJob ends job id with status and waits for its card to say so.
func (e *e2e) endJob(id int64, status xplenty.Status) {
	e.t.Helper()
	if status == xplenty.StatusFailed {
		if err := e.xp.SetErrors(id, "boom"); err != nil {
			e.t.Fatal(err)
		}
	}
	e.setStatus(id, status)
	e.waitCard(id, string(status))
}

func TestE2ENotifyLevels(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	stop := e.startBot()
	e.command("U1", "C1", "notify")
	e.waitEphemeral("U1", "`all`: a reply")
	e.command("U1", "CF", "notify failures")
	e.waitEphemeral("U1", "`failures`: a reply")
	e.command("U1", "CO", "notify off")
	e.waitEphemeral("U1", "`off`: no replies")

	// The settings are in Redis: a new replica has them.
	stop()
	e.startBot()
	e.command("U2", "CF", "notify")
	e.waitEphemeral("U2", "`failures`")

	type run struct {
		channel string
		id      int64
		status  xplenty.Status
		replies int
	}
	runs := []run{
		{"C1", 1001, xplenty.StatusCompleted, 1},
		{"C1", 1002, xplenty.StatusFailed, 1},
		{"CF", 1003, xplenty.StatusCompleted, 0},
		{"CF", 1004, xplenty.StatusFailed, 1},
		{"CO", 1005, xplenty.StatusCompleted, 0},
		{"CO", 1006, xplenty.StatusFailed, 0},
	}
	cards := map[int64]slacktest.Message{}
	for _, r := range runs {
		cards[r.id] = e.runJob(r.channel, r.id)
	}
	for _, r := range runs {
		e.endJob(r.id, r.status) // the card is edited whatever the channel hears
		e.waitDealtWith(r.id, r.status)
		if r.replies > 0 {
			e.waitReplies(cards[r.id], r.replies)
		}
	}
	e.settle()
	for _, r := range runs {
		got := e.slack.ThreadReplies(r.channel, cards[r.id].TS)
		if len(got) != r.replies {
			t.Errorf("job %d (%s in %s): %d thread replies, want %d:\n%s", r.id, r.status, r.channel, len(got), r.replies, dump(got))
		}
	}
	for _, m := range e.slack.Messages() {
		if !m.Ephemeral && m.ThreadTS == "" && !strings.HasPrefix(m.Channel, "C") {
			t.Errorf("a message outside the channels: %s %q", m.Channel, m.Text)
		}
	}
}

func TestE2ENotifyBroadcastAndMention(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U2", "C1", "notify broadcast=failures mention=off")
	e.waitEphemeral("U2", "Done")
	failed, completed := e.runJob("C1", 1001), e.runJob("C1", 1002)
	loud := e.runJob("C2", 1003)
	e.endJob(1001, xplenty.StatusFailed)
	e.endJob(1002, xplenty.StatusCompleted)
	e.endJob(1003, xplenty.StatusFailed)
	f, c, l := e.waitReplies(failed, 1)[0], e.waitReplies(completed, 1)[0], e.waitReplies(loud, 1)[0]
	if !f.ReplyBroadcast || c.ReplyBroadcast || l.ReplyBroadcast {
		t.Errorf("broadcast: failure %v, completion %v, failure elsewhere %v; want only the failure in C1",
			f.ReplyBroadcast, c.ReplyBroadcast, l.ReplyBroadcast)
	}
	for _, m := range []slacktest.Message{f, c} {
		if strings.Contains(m.Text+blocks(m), "<@") {
			t.Errorf("a reply in a mention=off channel mentions someone: %q %s", m.Text, blocks(m))
		}
	}
	if !strings.Contains(l.Text, "<@U1>") {
		t.Errorf("a reply in a channel with the defaults does not mention the requester: %q", l.Text)
	}
	e.settle()
	for _, card := range []slacktest.Message{failed, completed, loud} {
		if n := len(e.slack.ThreadReplies(card.Channel, card.TS)); n != 1 {
			t.Errorf("%d replies in the thread of %s, want 1", n, card.TS)
		}
	}
}

// The card's channel was archived while the job ran: its end goes to the
// requester as one direct message, even with two replicas and a first
// try whose answer was lost.
func TestE2EArchivedChannelReplyArrivesAsDM(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.startBot()
	card := e.runJob("C1", 1001)
	gone := e.runJob("C2", 1002)
	e.slack.SetArchived("C1")
	e.slack.SetNotInChannel("C2") // the bot was removed
	// The first post of a reply fails in a way that may have posted it.
	e.slack.FailNext("chat.postMessage", 1, "internal_error")
	e.setStatus(1001, xplenty.StatusFailed)
	e.setStatus(1002, xplenty.StatusCompleted)
	e.wait("two direct messages to U1", func(s *slacktest.Snapshot) bool { return len(s.DirectMessages("U1")) >= 2 })
	e.waitDealtWith(1001, xplenty.StatusFailed)
	e.waitDealtWith(1002, xplenty.StatusCompleted)
	e.settle()
	dms := e.slack.DirectMessages("U1")
	if len(dms) != 2 {
		t.Fatalf("%d direct messages, want 2:\n%s", len(dms), dump(dms))
	}
	for _, want := range []struct {
		channel, job, status string
	}{{"C1", "1001", "failed"}, {"C2", "1002", "completed"}} {
		found := false
		for _, m := range dms {
			found = found || strings.Contains(m.Text, "<#"+want.channel+">") && strings.Contains(m.Text, want.job) && strings.Contains(m.Text, want.status)
		}
		if !found {
			t.Errorf("no direct message says job %s %s in %s:\n%s", want.job, want.status, want.channel, dump(dms))
		}
	}
	if n := len(e.slack.ThreadReplies("C1", card.TS)) + len(e.slack.ThreadReplies("C2", gone.TS)); n != 0 {
		t.Errorf("%d thread replies in channels that could not take them", n)
	}
}

// A channel that hears nothing gets nothing as a direct message either.
func TestE2EArchivedChannelThatHearsNothing(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "notify off")
	e.waitEphemeral("U1", "Done")
	e.runJob("C1", 1001)
	e.slack.SetArchived("C1")
	e.setStatus(1001, xplenty.StatusFailed)
	e.waitDealtWith(1001, xplenty.StatusFailed)
	e.settle()
	if dms := e.slack.DirectMessages("U1"); len(dms) != 0 {
		t.Errorf("direct messages for a channel that hears nothing:\n%s", dump(dms))
	}
}

func TestE2ENotifyBadInput(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "notify loud")
	if m := e.waitEphemeral("U1", "`loud`"); !strings.Contains(m.Text, "not a notify setting") || !strings.Contains(m.Text, "`/runjob notify failures mention=off`") {
		t.Errorf("answer = %q, want the reason and the right form", m.Text)
	}
	e.command("U1", "C1", "notify mention=maybe")
	e.waitEphemeral("U1", "`mention` is `on` or `off`")
	e.command("U1", "C1", "notify")
	e.waitEphemeral("U1", "`all`: a reply")
	for _, m := range e.slack.Messages() {
		if !m.Ephemeral {
			t.Errorf("bad input posted in the channel: %q", m.Text)
		}
	}
	for _, a := range e.audit() {
		t.Errorf("bad input was audited: %+v", a)
	}
}

func TestE2ENotifyUnderPolicy(t *testing.T) {
	e := newPolicyE2E(t) // data-team: U1 in every channel; on-call: the group S0ONCALL
	e.command("U9", "C1", "notify off")
	e.waitEphemeral("U9", "Not allowed")
	if a := e.waitAudit("deny", "denied"); a.User != "U9" || !strings.HasPrefix(a.Detail, "notify: ") {
		t.Errorf("audit entry = %+v", a)
	}
	e.command("U9", "C1", "notify")
	e.waitEphemeral("U9", "`all`: a reply")
	e.command("U1", "C1", "notify off")
	e.waitEphemeral("U1", "Done")
	if a := e.waitAudit("notify", "changed"); a.User != "U1" || a.Channel != "C1" || a.Detail != "level all → off (allowed by rule data-team)" {
		t.Errorf("audit entry = %+v", a)
	}
	e.command("U9", "C1", "notify")
	e.waitEphemeral("U9", "`off`: no replies")
}
