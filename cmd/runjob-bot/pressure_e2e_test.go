package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// pressureWait guards the long waits of the pressure test against hangs;
// it is not a timing assertion.
const pressureWait = 4 * time.Minute

// trackJobs creates n running-to-be jobs in Xplenty, posts their cards in
// channels C0…C{channels-1} (with the fake's limits off) and tracks them,
// as n /runjob commands would have.
func (e *e2e) trackJobs(n, channels int) []job.Record {
	e.t.Helper()
	ctx := context.Background()
	store, err := store.New(e.rdb, store.Options{Prefix: e.cfg.RedisPrefix, SecretKey: []byte(e.cfg.XplentyAPIKey)})
	if err != nil {
		e.t.Fatal(err)
	}
	api := slack.New(e.slack.BotToken(), slack.OptionAPIURL(e.slack.APIURL()))
	var recs []job.Record
	for i := range n {
		j, err := e.xp.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434})
		if err != nil {
			e.t.Fatal(err)
		}
		rec := job.Record{JobID: j.ID, Channel: fmt.Sprintf("C%d", i%channels), Requester: "U1",
			Run: commands.Run{ClusterID: 52, PackageID: 434}, Status: j.Status, HTMLURL: j.HTMLURL}
		c := render.Card(rec)
		_, ts, err := api.PostMessageContext(ctx, rec.Channel, slack.MsgOptionText(c.Text, false), slack.MsgOptionBlocks(c.Blocks...))
		if err != nil {
			e.t.Fatal(err)
		}
		rec.CardTS = ts
		if err := store.Track(ctx, rec); err != nil {
			e.t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// 200 jobs over 50 channels move for two ticks, then all complete at once,
// with Slack's limits enforced and two replicas sharing Redis: every reply
// goes out once, soon after the completion; every card ends on its final
// state; no call, from either replica, comes inside a Retry-After.
func TestE2ERepliesFirstUnderSlackLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 200 jobs under Slack's limits")
	}
	const (
		jobs     = 200
		channels = 50
		interval = time.Second
	)
	e := newE2E(t, xplentytest.Options{Budget: 1_000_000})
	e.cfg.PollInterval = interval
	recs := e.trackJobs(jobs, channels)
	// Slack's post limit; chat.update at 600 a minute instead of 50, on
	// both sides, so that 200 cards reach their final state within the
	// test's patience (at 50 a minute that alone takes 4 minutes).
	limits := slacktest.DefaultLimits()
	limits.UpdatePerMinute = 600
	// A burst smaller than the bot's budget allows: some posts are
	// answered 429, and the Retry-After must hold every replica.
	limits.PostBurst = 1
	e.slack.SetLimits(&limits)
	e.tune = func(d *app.Deps) {
		d.ChannelRate, d.ChannelBurst = 0, 0 // the production post budget
		d.UpdateRate = 10
		d.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	e.startBot()
	e.startBot()

	move := func(st xplenty.Status, p float64) {
		for _, r := range recs {
			e.setStatus(r.JobID, st)
			if p > 0 {
				if err := e.xp.SetProgress(r.JobID, p); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	move(xplenty.StatusRunning, 0.3)
	time.Sleep(2 * interval)
	move(xplenty.StatusRunning, 0.6)
	time.Sleep(2 * interval)
	done := time.Now()
	move(xplenty.StatusCompleted, 0)

	lags := e.replyLags(t, jobs, done)
	p50, p99 := percentile(lags, 0.5), percentile(lags, 0.99)
	t.Logf("reply lag after the completion: p50 %s, p99 %s", p50, p99)
	if bound := 2*interval + 10*time.Second; p99 > bound {
		t.Errorf("reply lag p99 %s, want within %s", p99, bound)
	}

	ctx, cancel := context.WithTimeout(context.Background(), pressureWait)
	defer cancel()
	err := e.slack.Wait(ctx, func(s *slacktest.Snapshot) bool {
		for _, r := range recs {
			if m, ok := s.Message(r.Channel, r.CardTS); !ok || !strings.Contains(m.Text, "completed") {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("cards in their final state: %v", err)
	}
	e.settle()
	snap := e.slack.Snapshot()
	edits, limited := 0, 0
	for _, r := range recs {
		m, _ := snap.Message(r.Channel, r.CardTS)
		edits += m.Updates
		if last := m.History[len(m.History)-1]; !strings.Contains(last.Text, "completed") {
			t.Errorf("card of job %d ends as %q", r.JobID, last.Text)
		}
		if n := len(snap.ThreadReplies(r.Channel, r.CardTS)); n != 1 {
			t.Errorf("job %d: %d replies, want 1", r.JobID, n)
		}
	}
	for _, c := range snap.Calls("") {
		if c.Status == 429 {
			limited++
		}
	}
	t.Logf("%d card edits for %d jobs; %d calls answered 429", edits, jobs, limited)
	for _, v := range snap.RetryAfterViolations() {
		t.Errorf("call inside a Retry-After: %s", v)
	}
}

// replyLags waits until jobs terminal replies were posted, and returns how
// long after since each was.
func (e *e2e) replyLags(tb testing.TB, jobs int, since time.Time) []time.Duration {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), pressureWait)
	defer cancel()
	var lags []time.Duration
	err := e.slack.Wait(ctx, func(s *slacktest.Snapshot) bool {
		lags = lags[:0]
		for _, m := range s.Messages() {
			if m.ThreadTS != "" && m.Metadata != nil && m.Metadata.EventType == deliver.ReplyEventType {
				lags = append(lags, m.PostedAt.Sub(since))
			}
		}
		return len(lags) >= jobs
	})
	if err != nil {
		tb.Fatalf("%d of %d replies: %v", len(lags), jobs, err)
	}
	return lags
}
