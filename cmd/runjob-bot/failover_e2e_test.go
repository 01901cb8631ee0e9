package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The failover drill: two bot processes on a Sentinel setup
// (REDIS_MODE=sentinel). Jobs run, some have ended and their replies are
// being posted (Slack holds the posts) when the Redis primary is
// SIGKILLed; while the sentinels promote the replica, Slack answers the
// posts (which cannot then be marked delivered) and a command is typed.
// After the failover the other jobs end, and another command is typed.
// Every job gets exactly one terminal reply, no job starts twice, the
// command typed meanwhile starts one job or is told nothing was done, the
// one typed after starts its job, no bot process exits, and each is
// ready again.
func TestE2ESentinelFailoverWithJobsInFlight(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	sentinel := redistest.StartSentinel(t)
	e.rdb = sentinel.Client()
	ps := e.startProcs(e.procEnv("sentinel", sentinel.URL()), "a", "b")
	st, err := store.New(e.rdb, store.Options{Prefix: e.cfg.RedisPrefix})
	if err != nil {
		t.Fatal(err)
	}

	channels := []string{"C1", "C2", "C3"}
	for i := range 6 {
		e.command("U1", channels[i%3], fmt.Sprintf("cluster=52 package=434 N=%d", i))
	}
	ids := jobRange(1001, 1006)
	cards := map[int64]slacktest.Message{}
	for _, id := range ids {
		cards[id] = e.waitCard(id, "idle")
	}
	for _, id := range ids {
		e.setStatus(id, xplenty.StatusRunning)
	}

	// Three jobs end; their replies are in flight when the primary dies.
	release := e.slack.Hold("chat.postMessage")
	defer release()
	for _, id := range ids[:3] {
		e.setStatus(id, endOf(id))
	}
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	if err := e.slack.WaitHeld(ctx, "chat.postMessage", 1); err != nil {
		t.Fatalf("no reply was being posted: %v", err)
	}
	old := sentinel.Primary()
	during := make(chan string, 1)
	go func() {
		// Once the primary is gone, while the sentinels promote: Slack
		// answers the posts it held (they cannot be marked delivered), and
		// a command is typed.
		for {
			c, err := net.DialTimeout("tcp", old.Addr, time.Second)
			if err != nil {
				break
			}
			_ = c.Close()
			time.Sleep(20 * time.Millisecond)
		}
		release()
		id, err := e.slack.SendSlashCommand(ctx, slacktest.SlashCommand{UserID: "U8", ChannelID: "C1", Text: "cluster=52 package=434 DURING=1"})
		if err != nil {
			id = "not sent: " + err.Error()
		}
		during <- id
	}()
	promoted := sentinel.KillPrimary()
	envelope := <-during
	if _, err := e.slack.WaitAck(ctx, envelope); err != nil {
		t.Fatalf("the command typed during the failover (%s) was not acked: %v", envelope, err)
	}
	for _, id := range ids[3:] {
		e.setStatus(id, endOf(id))
	}

	// The command typed meanwhile started its job, or its typist was told
	// that nothing was done, or its card that it did not start: the
	// database could not be reached.
	var duringJob int64
	e.eventually("the command typed during the failover to be answered", func() (bool, string) {
		snap := e.slack.Snapshot()
		for _, m := range snap.Ephemerals("U8") {
			if strings.Contains(m.Text, "nothing was done") {
				return true, ""
			}
		}
		for _, m := range snap.Messages() {
			if m.ThreadTS == "" && strings.Contains(blocks(m)+m.Text, "could not reach its database") {
				return true, ""
			}
		}
		if c, ok := card(snap, 1007); ok && strings.Contains(c.Text, "idle") {
			duringJob, cards[1007] = 1007, c
			return true, ""
		}
		return false, "no card of job 1007 and no answer to U8"
	})
	if duringJob != 0 {
		e.setStatus(duringJob, xplenty.StatusCompleted)
		ids = append(ids, duringJob)
	}
	// A command after the failover starts its job.
	after := int64(1007)
	if duringJob != 0 {
		after = 1008
	}
	e.command("U9", "C2", "cluster=52 package=434 AFTER=1")
	cards[after] = e.waitCard(after, "idle")
	e.setStatus(after, xplenty.StatusCompleted)
	ids = append(ids, after)

	e.waitTerminalReplies(cards, ids)
	e.waitOutboxDrained(st)
	if n := e.runs(); n != len(ids) {
		t.Errorf("%d run requests for %d jobs", n, len(ids))
	}
	for _, id := range ids {
		if got := e.terminalReplies(cards[id]); len(got) != 1 {
			t.Errorf("job %d has %d terminal replies, want 1:\n%s", id, len(got), dump(got))
		}
	}
	for _, p := range ps {
		if !p.alive() {
			t.Fatalf("bot process %s exited during the failover (%v)%s", p.name, p.err, p.tail())
		}
		url := p.opsURL("/readyz")
		e.eventually(p.name+"'s /readyz to answer 200", func() (bool, string) {
			res, err := http.Get(url)
			if err != nil {
				return false, err.Error()
			}
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			return res.StatusCode == http.StatusOK, fmt.Sprintf("%d %s", res.StatusCode, body)
		})
	}
	t.Logf("primary %s killed, %s promoted; the command typed meanwhile started job %d (0: told nothing was done)",
		old.Addr, promoted.Addr, duringJob)
}
