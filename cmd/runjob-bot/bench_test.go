package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/ops"
	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// BenchmarkWatch1000Jobs runs the whole bot (fake Slack over Socket Mode,
// xplentytest, a real Redis) with 1,000 tracked jobs and reports:
//
//	calls/tick      Xplenty calls per poll tick while 1,000 jobs are tracked (mean, max,
//	                and max not counting list pages after the first)
//	reply-p99-ms    delay from a status change in Xplenty to its thread reply in Slack
//	ack-p99-ms      ack latency of a burst of 60 commands
//
// Run it with: go test -run '^$' -bench Watch1000 -benchtime 1x ./cmd/runjob-bot/
// Slack's per-channel pacing is lifted (as the fake Slack has no limits), so
// the figures measure the bot, not Slack's one-message-per-second rule.
func BenchmarkWatch1000Jobs(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchWatch(b)
	}
}

func benchWatch(b *testing.B) {
	const (
		jobs     = 1000
		channels = 10
		interval = time.Second
	)
	e := newE2E(b, xplentytest.Options{Budget: 1_000_000})
	e.cfg.PollInterval = interval

	var mu sync.Mutex
	var ticks []notifier.TickStats
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	var once sync.Once
	go func() {
		done <- app.Serve(ctx, e.cfg, app.Deps{
			Logger:      slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
			Ready:       func() { once.Do(func() { close(ready) }) },
			ChannelRate: 10000, ChannelBurst: 10000, UpdateRate: 10000,
			HTTPClient: &http.Client{Timeout: 10 * time.Second},
			Hooks: ops.Hooks{Tick: func(st notifier.TickStats) {
				if st.Leader && st.Active >= jobs/2 {
					mu.Lock()
					ticks = append(ticks, st)
					mu.Unlock()
				}
			}},
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("bot: %v", err)
		}
	}()
	<-ready
	wctx, wcancel := context.WithTimeout(context.Background(), waitLimit)
	defer wcancel()
	if err := e.slack.WaitConnections(wctx, 1); err != nil {
		b.Fatal(err)
	}

	// Ack latency over a burst of 60 commands, then 940 more: 1,000 jobs.
	b.ResetTimer()
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer scancel()
	var ids []string
	for i := 0; i < jobs; i++ {
		id, err := e.slack.SendSlashCommand(sctx, slacktest.SlashCommand{
			UserID: "U1", ChannelID: fmt.Sprintf("C%d", i%channels), Text: fmt.Sprintf("cluster=52 package=434 N=%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
		if i == 59 {
			var acks []time.Duration
			for _, id := range ids {
				a, err := e.slack.WaitAck(sctx, id)
				if err != nil {
					b.Fatal(err)
				}
				acks = append(acks, a.AckedAt.Sub(a.SentAt))
			}
			b.ReportMetric(ms(percentile(acks, 0.99)), "ack-p99-ms")
			b.ReportMetric(ms(percentile(acks, 0.50)), "ack-p50-ms")
		}
	}
	e.wait("1,000 cards", func(s *slacktest.Snapshot) bool {
		n := 0
		for _, m := range s.Messages() {
			if m.ThreadTS == "" && !m.Ephemeral && strings.Contains(m.Text, "): idle") {
				n++
			}
		}
		return n >= jobs
	})

	// Let a few ticks pass with 1,000 jobs tracked and nothing changing.
	time.Sleep(3 * interval)

	// End every job at a random moment over 20 s; note when.
	changed := make(map[int64]time.Time, jobs)
	order := rand.Perm(jobs)
	start := time.Now()
	for k, i := range order {
		id := int64(1001 + i)
		due := start.Add(time.Duration(k) * 20 * time.Second / jobs)
		time.Sleep(time.Until(due))
		st := xplenty.StatusCompleted
		if i%10 == 0 {
			st = xplenty.StatusFailed
		}
		if err := e.xp.SetStatus(id, st); err != nil {
			b.Fatal(err)
		}
		changed[id] = time.Now()
	}
	var delays []time.Duration
	e.wait("1,000 thread replies", func(s *slacktest.Snapshot) bool {
		delays = delays[:0]
		for _, m := range s.Messages() {
			if m.ThreadTS == "" || m.Metadata == nil || m.Metadata.EventType != deliver.ReplyEventType {
				continue
			}
			var id int64
			fmt.Sscan(fmt.Sprint(m.Metadata.EventPayload["job_id"]), &id)
			delays = append(delays, m.PostedAt.Sub(changed[id]))
		}
		return len(delays) >= jobs
	})
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	maxCalls, maxBeyond, sum := 0, 0, 0
	for _, t := range ticks {
		maxCalls = max(maxCalls, t.Calls)
		maxBeyond = max(maxBeyond, t.Calls-max(t.Pages-1, 0)) // calls other than extra list pages
		sum += t.Calls
	}
	if len(ticks) == 0 {
		b.Fatal("no poll tick while the jobs were tracked")
	}
	b.ReportMetric(float64(maxCalls), "max-calls/tick")
	b.ReportMetric(float64(maxBeyond), "max-calls-besides-paging/tick")
	b.ReportMetric(float64(sum)/float64(len(ticks)), "calls/tick")
	b.ReportMetric(float64(len(ticks)), "ticks")
	b.ReportMetric(ms(percentile(delays, 0.99)), "reply-p99-ms")
	b.ReportMetric(ms(percentile(delays, 0.50)), "reply-p50-ms")
	if n := len(e.slack.Messages()); n < 2*jobs {
		b.Errorf("%d messages, want at least %d (a card and a reply per job)", n, 2*jobs)
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkReplies1000JobsUnderSlackLimits runs the whole bot with Slack's
// limits enforced by the fake (chat.postMessage about 1/s per channel,
// chat.update 50 a minute) and the bot's default budgets: 1,000 jobs over
// 250 channels start running, then all complete at once. It reports
//
//	reply-p50-ms, reply-p99-ms  delay from the completion to each thread reply
//	card-changes                card changes the watcher recorded (each marks a card)
//	edits-sent                  chat.update calls made for cards until the last reply
//	edits-pending               cards still waiting for their edit then (one edit each)
//	edits-coalesced             changes that will never cost an edit: changes − sent − pending
//	ratelimited                 calls Slack answered 429
//
// Run it with: go test -run '^$' -bench Replies1000 -benchtime 1x ./cmd/runjob-bot/
func BenchmarkReplies1000JobsUnderSlackLimits(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchReplies(b)
	}
}

func benchReplies(b *testing.B) {
	const (
		jobs     = 1000
		channels = 250
		interval = time.Second
	)
	e := newE2E(b, xplentytest.Options{Budget: 1_000_000})
	e.cfg.PollInterval = interval
	recs := e.trackJobs(jobs, channels)
	limits := slacktest.DefaultLimits()
	e.slack.SetLimits(&limits)

	var mu sync.Mutex
	changes, sent := 0, 0
	e.tune = func(d *app.Deps) {
		d.ChannelRate, d.ChannelBurst, d.UpdateRate = 0, 0, 0 // the production budgets
		d.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		d.Hooks = ops.Hooks{
			Tick: func(st notifier.TickStats) { mu.Lock(); changes += st.Changes; mu.Unlock() },
			Delivered: func(kind string, _ int64, _ xplenty.Status) {
				if kind == "card" {
					mu.Lock()
					sent++
					mu.Unlock()
				}
			},
		}
	}
	e.startBot()
	b.ResetTimer()
	for _, r := range recs {
		if err := e.xp.SetStatus(r.JobID, xplenty.StatusRunning); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(3 * interval)
	done := time.Now()
	for _, r := range recs {
		if err := e.xp.SetStatus(r.JobID, xplenty.StatusCompleted); err != nil {
			b.Fatal(err)
		}
	}
	lags := e.replyLags(b, jobs, done)
	b.StopTimer()
	store, err := store.New(e.rdb, store.Options{Prefix: e.cfg.RedisPrefix})
	if err != nil {
		b.Fatal(err)
	}
	q, err := store.Queues(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	snap := e.slack.Snapshot()
	limited := 0
	for _, c := range snap.Calls("") {
		if c.Status == 429 {
			limited++
		}
	}
	if v := snap.RetryAfterViolations(); len(v) > 0 {
		b.Errorf("%d calls inside a Retry-After, first: %s", len(v), v[0])
	}
	mu.Lock()
	defer mu.Unlock()
	b.ReportMetric(ms(percentile(lags, 0.50)), "reply-p50-ms")
	b.ReportMetric(ms(percentile(lags, 0.99)), "reply-p99-ms")
	b.ReportMetric(float64(changes), "card-changes")
	b.ReportMetric(float64(sent), "edits-sent")
	b.ReportMetric(float64(q.CardsPending), "edits-pending")
	b.ReportMetric(float64(changes-sent-int(q.CardsPending)), "edits-coalesced")
	b.ReportMetric(float64(limited), "ratelimited")
}
