package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// With Slack's limits and the production budgets and ClaimIdle, 60 jobs
// of one channel complete, then one job of another: the quiet channel's
// reply, which only its own pacing should hold, goes out long before the
// busy channel's replies (one a second) are done.
func TestE2EBusyChannelDoesNotDelayQuietChannel(t *testing.T) {
	e := newE2E(t, xplentytest.Options{Budget: 1_000_000})
	e.cfg.PollInterval = time.Second
	ctx := context.Background()
	store, err := store.New(e.rdb, store.Options{Prefix: e.cfg.RedisPrefix, SecretKey: []byte(e.cfg.XplentyAPIKey)})
	if err != nil {
		t.Fatal(err)
	}
	api := slack.New(e.slack.BotToken(), slack.OptionAPIURL(e.slack.APIURL()))
	track := func(channel string) job.Record {
		j, err := e.xp.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434})
		if err != nil {
			t.Fatal(err)
		}
		rec := job.Record{JobID: j.ID, Channel: channel, Requester: "U1", Run: commands.Run{ClusterID: 52, PackageID: 434}, Status: j.Status, HTMLURL: j.HTMLURL}
		c := render.Card(rec)
		_, ts, err := api.PostMessageContext(ctx, channel, slack.MsgOptionText(c.Text, false), slack.MsgOptionBlocks(c.Blocks...))
		if err != nil {
			t.Fatal(err)
		}
		rec.CardTS = ts
		if err := store.Track(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	const busyJobs = 60
	busy := map[string]bool{}
	var busyRecs []job.Record
	for range busyJobs {
		r := track("CBUSY")
		busy[r.CardTS] = true
		busyRecs = append(busyRecs, r)
	}
	quiet := track("CQUIET")
	limits := slacktest.DefaultLimits()
	e.slack.SetLimits(&limits)
	e.tune = func(d *app.Deps) {
		d.ChannelRate, d.ChannelBurst, d.UpdateRate, d.ClaimIdle = 0, 0, 0, 0 // production
		d.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	e.startBot()
	for _, r := range busyRecs {
		e.setStatus(r.JobID, xplenty.StatusCompleted)
	}
	time.Sleep(1500 * time.Millisecond) // the busy channel's jobs end a tick earlier
	e.setStatus(quiet.JobID, xplenty.StatusCompleted)
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := e.slack.Wait(wctx, func(s *slacktest.Snapshot) bool { return len(s.ThreadReplies("CQUIET", quiet.CardTS)) == 1 }); err != nil {
		t.Fatal(err)
	}
	snap := e.slack.Snapshot()
	at := snap.ThreadReplies("CQUIET", quiet.CardTS)[0].PostedAt
	before := 0
	for ts := range busy {
		for _, m := range snap.ThreadReplies("CBUSY", ts) {
			if m.PostedAt.Before(at) {
				before++
			}
		}
	}
	// Before, the quiet reply waited until nearly all of the busy replies
	// were out.
	if before >= busyJobs/4 {
		t.Errorf("the quiet channel's reply went out after %d of the busy channel's %d replies", before, busyJobs)
	}
}
