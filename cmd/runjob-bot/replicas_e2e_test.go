package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// Three bot processes on one Redis. Commands and clicks in three
// channels, some sent to every replica at once, each start or stop one
// job. A replica is SIGKILLed while it is posting replies (Slack holds the
// posts; those it had sent are carried out, their answers lost) and holds
// others it read; later the polling leader is SIGKILLed too. Every job
// gets exactly one terminal reply, none is started twice, the dead
// replica's outbox entries are claimed by the others, one replica at a
// time polls, and the work is shared.
func TestE2EThreeReplicasOneKilled(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	env := e.procEnv("single", "redis://"+redistest.Addr(t, e.rdb)+"/0")
	ps := e.startProcs(env, "a", "b", "c")
	st, err := store.New(e.rdb, store.Options{Prefix: e.cfg.RedisPrefix})
	if err != nil {
		t.Fatal(err)
	}

	// Nine commands in three channels, handed round the replicas; every
	// third is also sent to all three at once.
	channels := []string{"C1", "C2", "C3"}
	for i := range 9 {
		text := fmt.Sprintf("cluster=52 package=434 N=%d", i)
		if i%3 == 0 {
			e.broadcastCommand("U1", channels[i%3], text)
		} else {
			e.command("U1", channels[i%3], text)
		}
	}
	ids := jobRange(1001, 1009)
	cards := map[int64]slacktest.Message{}
	for _, id := range ids {
		cards[id] = e.waitCard(id, "idle")
	}
	// A Stop and a Re-run, each clicked once and sent to all three.
	e.setStatus(1001, xplenty.StatusRunning)
	e.waitCard(1001, "running")
	e.broadcastClick("U2", cards[1001], render.ActionStop)
	e.waitCard(1001, "stopping")
	e.broadcastClick("U3", cards[1002], render.ActionRerun)
	cards[1010] = e.waitCard(1010, "idle")
	ids = append(ids, 1010)

	// Slack holds the replies' posts; the jobs end.
	release := e.slack.Hold("chat.postMessage")
	defer release()
	for _, id := range ids {
		e.setStatus(id, endOf(id))
	}
	victim, attempted := e.waitPostingReplica(st, ps, len(ids))
	victim.kill()
	release()
	e.waitTerminalReplies(cards, ids)
	e.waitOutboxDrained(st)
	if left := pendingOf(t, st, victim); left != 0 {
		t.Errorf("the killed replica still has %d outbox entries pending", left)
	}
	for _, id := range attempted {
		if !deliveredBy(alive(ps), id) {
			t.Errorf("job %d's reply, being posted by the killed replica, was not delivered by another", id)
		}
	}

	// A new replica takes the dead one's place; three more jobs; the
	// polling leader is killed; the jobs end.
	ps = append(ps, e.startProc("d", env))
	ps[len(ps)-1].waitLine("ready")
	for i, ch := range channels {
		e.command("U1", ch, fmt.Sprintf("cluster=52 package=434 M=%d", i))
	}
	more := jobRange(1011, 1013)
	for _, id := range more {
		cards[id] = e.waitCard(id, "idle")
	}
	leader := e.leader(ps)
	leader.kill()
	for _, id := range more {
		e.setStatus(id, endOf(id))
	}
	ids = append(ids, more...)
	e.waitTerminalReplies(cards, ids)
	e.waitOutboxDrained(st)

	if n := e.runs(); n != len(ids) {
		t.Errorf("%d run requests for %d jobs", n, len(ids))
	}
	if n := e.stops(); n != 1 {
		t.Errorf("%d stop requests for one click, want 1", n)
	}
	for _, id := range ids {
		if got := e.terminalReplies(cards[id]); len(got) != 1 {
			t.Errorf("job %d has %d terminal replies, want 1:\n%s", id, len(got), dump(got))
		} else if !strings.Contains(got[0].Text, string(endOf(id))) {
			t.Errorf("job %d's reply %q does not say %s", id, got[0].Text, endOf(id))
		}
	}
	// One replica at a time polled: each one's polls are one unbroken run.
	if runs := e.pollRuns(); !onePollerAtATime(runs) {
		t.Errorf("the replicas' polls interleave: %v", runs)
	}
	// The work was shared: more than one replica delivered.
	var delivering []string
	for _, p := range ps {
		if slices.ContainsFunc(p.said(), func(l string) bool { return strings.HasPrefix(l, "delivered ") }) {
			delivering = append(delivering, p.name)
		}
	}
	if len(delivering) < 2 {
		t.Errorf("only %v delivered anything", delivering)
	}
	for _, p := range ps {
		if p != victim && p != leader && !p.alive() {
			t.Errorf("bot process %s exited (%v)%s", p.name, p.err, p.tail())
		}
	}
	t.Logf("killed %s while it posted the replies of jobs %v, then the leader %s; polls by replica: %v; delivering: %v",
		victim.name, attempted, leader.name, e.pollRuns(), delivering)
}

func jobRange(from, to int64) []int64 {
	var ids []int64
	for id := from; id <= to; id++ {
		ids = append(ids, id)
	}
	return ids
}

// endOf is how the replica tests end job id: the one stopped by a click
// is stopped, some fail, the rest complete.
func endOf(id int64) xplenty.Status {
	switch {
	case id == 1001:
		return xplenty.StatusStopped
	case id%4 == 3:
		return xplenty.StatusFailed
	}
	return xplenty.StatusCompleted
}

// broadcastCommand types /runjob text, then sends its envelope to every
// replica as well: the event reaches each of them.
func (e *e2e) broadcastCommand(user, channel, text string) {
	e.t.Helper()
	id := e.command(user, channel, text)
	e.broadcast(id)
}

// broadcastClick clicks a button of card, and sends the click to every
// replica as well.
func (e *e2e) broadcastClick(user string, card slacktest.Message, action string) {
	e.t.Helper()
	e.broadcast(e.click(user, card, action))
}

func (e *e2e) broadcast(envelope string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := e.slack.Broadcast(ctx, envelope); err != nil {
		e.t.Fatal(err)
	}
}

// terminalReplies are the replies in card's thread that carry the
// metadata of a terminal reply (not the re-run note, say).
func (e *e2e) terminalReplies(card slacktest.Message) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range e.slack.ThreadReplies(card.Channel, card.TS) {
		if m.Metadata != nil && m.Metadata.EventType == deliver.ReplyEventType {
			out = append(out, m)
		}
	}
	return out
}

// waitTerminalReplies waits until each job has a terminal reply.
func (e *e2e) waitTerminalReplies(cards map[int64]slacktest.Message, ids []int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	err := e.slack.Wait(ctx, func(s *slacktest.Snapshot) bool {
		for _, id := range ids {
			found := false
			for _, m := range s.ThreadReplies(cards[id].Channel, cards[id].TS) {
				found = found || (m.Metadata != nil && m.Metadata.EventType == deliver.ReplyEventType)
			}
			if !found {
				return false
			}
		}
		return true
	})
	if err != nil {
		e.t.Fatalf("waiting for the terminal replies of %v: %v\nmessages:\n%s", ids, err, dump(e.slack.Messages()))
	}
}

// waitOutboxDrained waits until every outbox entry was delivered and
// acknowledged: none is left to be delivered (again) by anyone.
func (e *e2e) waitOutboxDrained(st *store.Store) {
	e.t.Helper()
	e.eventually("the outbox to drain", func() (bool, string) {
		q, err := st.Queues(context.Background())
		if err != nil {
			return false, err.Error()
		}
		cs, err := st.OutboxConsumers(context.Background())
		if err != nil {
			return false, err.Error()
		}
		pending := int64(0)
		for _, c := range cs {
			pending += c.Pending
		}
		return q.Replies == 0 && pending == 0, fmt.Sprintf("%d entries, %d pending", q.Replies, pending)
	})
}

// eventually polls cond until it holds; it is a wait, not a timing
// assertion.
func (e *e2e) eventually(what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(procWait)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("gave up waiting for %s: %s", what, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitPostingReplica waits until the n replies were read from the outbox
// and some replica is posting replies (its attempt markers set, Slack
// holding the posts) while holding entries, and returns the one posting
// the most, with the jobs it is posting.
func (e *e2e) waitPostingReplica(st *store.Store, ps []*proc, n int) (*proc, []int64) {
	e.t.Helper()
	var victim *proc
	var jobs []int64
	e.eventually("a replica posting replies", func() (bool, string) {
		ctx := context.Background()
		cs, err := st.OutboxConsumers(ctx)
		if err != nil {
			return false, err.Error()
		}
		pending, total := map[*proc]int64{}, int64(0)
		for _, c := range cs {
			if p, err := procOf(ps, c.Name); err == nil {
				pending[p] += c.Pending
			}
			total += c.Pending
		}
		if total < int64(n) {
			return false, fmt.Sprintf("%d of %d replies read", total, n)
		}
		posting := map[*proc][]int64{}
		keys, err := e.rdb.Keys(ctx, e.cfg.RedisPrefix+"attempt:*").Result()
		if err != nil {
			return false, err.Error()
		}
		for _, k := range keys {
			holder, err := e.rdb.Get(ctx, k).Result()
			p, perr := procOf(ps, holder)
			if err != nil || perr != nil {
				continue
			}
			id, _ := strconv.ParseInt(strings.Split(strings.TrimPrefix(k, e.cfg.RedisPrefix+"attempt:"), ":")[0], 10, 64)
			posting[p] = append(posting[p], id)
		}
		victim, jobs = nil, nil
		for p, ids := range posting {
			if pending[p] > 0 && len(ids) > len(jobs) {
				victim, jobs = p, ids
			}
		}
		return victim != nil, fmt.Sprintf("posting: %d replicas, pending %v", len(posting), pending)
	})
	slices.Sort(jobs)
	return victim, jobs
}

// pendingOf returns the outbox entries p's consumer has read and not
// acknowledged.
func pendingOf(t *testing.T, st *store.Store, p *proc) int64 {
	t.Helper()
	cs, err := st.OutboxConsumers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	for _, c := range cs {
		if p.owns(c.Name) {
			n += c.Pending
		}
	}
	return n
}

func alive(ps []*proc) []*proc {
	var out []*proc
	for _, p := range ps {
		if p.alive() {
			out = append(out, p)
		}
	}
	return out
}

// deliveredBy reports whether one of ps said it delivered job id's reply.
func deliveredBy(ps []*proc, id int64) bool {
	prefix := fmt.Sprintf("delivered reply %d ", id)
	for _, p := range ps {
		if slices.ContainsFunc(p.said(), func(l string) bool { return strings.HasPrefix(l, prefix) }) {
			return true
		}
	}
	return false
}

// leader returns the process holding the polling lease.
func (e *e2e) leader(ps []*proc) *proc {
	e.t.Helper()
	var l *proc
	e.eventually("a polling leader", func() (bool, string) {
		holder, err := e.rdb.Get(context.Background(), e.cfg.RedisPrefix+"watch:leader").Result()
		if err == redis.Nil {
			return false, "no lease"
		}
		if err != nil {
			return false, err.Error()
		}
		p, err := procOf(ps, holder)
		if err != nil {
			return false, err.Error()
		}
		l = p
		return p.alive(), p.name + " is not alive"
	})
	return l
}

// pollRuns is who made the watcher's list calls, in order, with repeats
// folded: [a b] is a's polls, then b's.
func (e *e2e) pollRuns() []string {
	var runs []string
	for _, r := range e.xp.Requests() {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.Path, "/api/jobs") || r.Query.Get("sort") != "updated" {
			continue
		}
		who := r.Header.Get(replicaHeader)
		if len(runs) == 0 || runs[len(runs)-1] != who {
			runs = append(runs, who)
		}
	}
	return runs
}

// onePollerAtATime reports whether no replica's polls come in two runs:
// the lease moved only when its holder died.
func onePollerAtATime(runs []string) bool {
	seen := map[string]bool{}
	for _, r := range runs {
		if seen[r] {
			return false
		}
		seen[r] = true
	}
	return true
}
