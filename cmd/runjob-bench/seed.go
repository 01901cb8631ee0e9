package main

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// seed creates n running jobs in the fake Xplenty, posts each one's card
// in the fake Slack (channel i mod channels) and records it in Redis the
// way the bot does once a card is posted and the run answered (store.Track),
// with a typical run: names, a package link, three variables, one of them
// secret (sealed in Redis).
func seed(ctx context.Context, sl *slacktest.Server, xp *xplentytest.Server, st *store.Store, n, channels int) ([]job.Record, error) {
	api := slack.New(sl.BotToken(), slack.OptionAPIURL(sl.APIURL()))
	recs := make([]job.Record, 0, n)
	for i := range n {
		run := commands.Run{
			ClusterID: 52, PackageID: 434,
			ClusterName: "prod-etl", PackageName: "orders_daily",
			PackageURL: "https://app.xplenty.com/acme/packages/434",
			Variables: map[string]string{
				"DATE": "2026-11-01", "REGION": "eu-west-1",
				"DB_PASSWORD": fmt.Sprintf("s3cret-%08d", i),
			},
			SecretNames: []string{"DB_PASSWORD"},
		}
		j, err := xp.CreateJob(xplenty.RunRequest{ClusterID: run.ClusterID, PackageID: run.PackageID, Variables: run.Variables})
		if err != nil {
			return nil, err
		}
		if err := xp.SetStatus(j.ID, xplenty.StatusRunning); err != nil {
			return nil, err
		}
		rec := job.Record{
			JobID: j.ID, Channel: fmt.Sprintf("C%07d", i%channels), Requester: fmt.Sprintf("U%07d", i%40),
			Run: run, Status: xplenty.StatusRunning, HTMLURL: j.HTMLURL,
			CreatedAt: time.Now(), StatusSince: time.Now(),
		}
		c := render.Card(rec)
		_, ts, err := api.PostMessageContext(ctx, rec.Channel, slack.MsgOptionText(c.Text, false), slack.MsgOptionBlocks(c.Blocks...))
		if err != nil {
			return nil, fmt.Errorf("post card %d: %w", i, err)
		}
		rec.CardTS = ts
		if err := st.Track(ctx, rec); err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
