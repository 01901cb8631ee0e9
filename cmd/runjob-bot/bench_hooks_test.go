package main

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/ops"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// BenchmarkReplyLag runs the whole bot (fake Slack over Socket Mode,
// xplentytest, a real Redis) with POLL_INTERVAL=5s and 100 tracked jobs in
// 10 channels, which end at random moments over 10 s, and reports the delay
// from each change in the fake Xplenty to its thread reply in the fake
// Slack, with Xplenty's web hooks (the fake POSTs them to the bot's
// /hooks/xplenty) and without:
//
//	reply-p50-ms, reply-p99-ms, reply-max-ms   the delays
//	list-calls                                 Xplenty list calls (polls) meanwhile
//
// Run it with: go test -run '^$' -bench ReplyLag -benchtime 1x ./cmd/runjob-bot/
// Slack's per-channel pacing is lifted, as in BenchmarkWatch1000Jobs, so
// that the figures measure the bot.
func BenchmarkReplyLag(b *testing.B) {
	for _, hooks := range []bool{true, false} {
		name := "hooks"
		if !hooks {
			name = "poll-only"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				benchReplyLag(b, hooks)
			}
		})
	}
}

func benchReplyLag(b *testing.B, hooks bool) {
	const (
		jobs     = 100
		channels = 10
		spread   = 10 * time.Second
	)
	e := newE2E(b, xplentytest.Options{Budget: 1_000_000})
	recs := e.trackJobs(jobs, channels)
	o := e.serveOps(hooks)
	e.cfg.PollInterval = 5 * time.Second
	tune := e.tune
	e.tune = func(d *app.Deps) {
		tune(d)
		d.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		d.ChannelRate, d.ChannelBurst, d.UpdateRate = 10000, 10000, 10000
	}
	e.startBot()
	if hooks {
		e.xp.AddWebHook(o.url(0, ops.HookPath), hookUser, hookPassword)
	}
	before := e.listCalls()

	b.ResetTimer()
	changed := make(map[int64]time.Time, jobs)
	start := time.Now()
	for k, i := range rand.Perm(jobs) {
		time.Sleep(time.Until(start.Add(time.Duration(k) * spread / jobs)))
		id := recs[i].JobID
		if err := e.xp.SetStatus(id, xplenty.StatusCompleted); err != nil {
			b.Fatal(err)
		}
		changed[id] = time.Now()
	}
	var delays []time.Duration
	e.wait(fmt.Sprintf("%d thread replies", jobs), func(s *slacktest.Snapshot) bool {
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

	b.ReportMetric(ms(percentile(delays, 0.50)), "reply-p50-ms")
	b.ReportMetric(ms(percentile(delays, 0.99)), "reply-p99-ms")
	b.ReportMetric(ms(percentile(delays, 1)), "reply-max-ms")
	b.ReportMetric(float64(e.listCalls()-before), "list-calls")
}
