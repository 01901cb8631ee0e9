package bot

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
)

// The Home tab (app_home_opened → views.publish): a person's last jobs,
// and the jobs running now in channels where they may act on them, with
// the cards' buttons. It is drawn when opened, never pushed.
//
// A job is acted on only in its own channel. A click on the Home tab has
// no channel, so it is taken as made in the job's channel, and only for a
// member of that channel (users.conversations): from there it goes the
// way of a click on the card, judged by the allowlist and the policy for
// that channel, its answers shown in that channel to that person. The tab
// lists running jobs by the same test (member, allowlisted, and allowed by
// the policy to run that job there), so it shows nobody a job of a channel
// they are not in.

// homeScan bounds the running jobs the Home tab looks through.
const homeScan = 500

// HomeOpened draws user's Home tab; notice, when set, heads it (the
// answer to a click that could not be acted on).
func (b *Bot) HomeOpened(ctx context.Context, user, notice string) {
	b.drawHome(ctx, user, notice, nil)
}

// drawHome draws the tab; channels, when not nil, are the person's
// channels as Slack gave them moments ago (a click's check), so that
// Slack is not asked twice.
func (b *Bot) drawHome(ctx context.Context, user, notice string, channels []string) {
	h := render.Home{Now: time.Now()}
	mine, err := b.cfg.Store.RecentBy(ctx, user, render.MaxHomeJobs)
	if err != nil {
		b.log.Warn("home: read the person's jobs", "user", user, "err", err)
		h.MineUnknown = true
	}
	h.Mine = mine
	h.Running, h.MoreRunning, h.RunningUnknown = b.runningFor(ctx, user, channels)
	view := render.HomeView(h)
	if notice != "" {
		view.Blocks.BlockSet = append([]slack.Block{slack.NewSectionBlock(
			&slack.TextBlockObject{Type: slack.MarkdownType, Text: "⚠️ " + notice}, nil, nil, slack.SectionBlockOptionBlockID("home_notice"))},
			view.Blocks.BlockSet...)
	}
	if err := b.cfg.Poster.PublishHome(ctx, user, view); err != nil {
		b.log.Warn("home: publish", "user", user, "err", err)
	}
}

// runningFor returns the running jobs user may act on (see the top of the
// file), how many more there are than the tab shows, and whether they
// could not be known (Redis or users.conversations failed). channels, when
// not nil, are the person's channels already known.
func (b *Bot) runningFor(ctx context.Context, user string, channels []string) ([]job.Record, int, bool) {
	recs, _, err := b.cfg.Store.Running(ctx, homeScan)
	if err != nil {
		b.log.Warn("home: read the running jobs", "err", err)
		return nil, 0, true
	}
	// Slack is asked for the person's channels only when a running job
	// could be shown to them: anyone in the workspace may open the tab,
	// and users.conversations shares a slow budget with the policy's
	// user-group lookups.
	recs = slices.DeleteFunc(recs, func(r job.Record) bool {
		return r.Terminal() || !b.cfg.Access.Allowed(user, r.Channel)
	})
	if len(recs) == 0 {
		return nil, 0, false
	}
	if channels == nil {
		if channels, _, err = b.cfg.Poster.UserChannels(ctx, user); err != nil {
			b.log.Warn("home: list the person's channels", "user", user, "err", err)
			return nil, 0, true
		}
	}
	var out []job.Record
	for _, r := range recs {
		if !slices.Contains(channels, r.Channel) {
			continue
		}
		there := Request{UserID: user, ChannelID: r.Channel}
		if !b.decide(ctx, there, b.recorded(ctx, r)).Allowed {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, c job.Record) int { return c.CreatedAt.Compare(a.CreatedAt) })
	if len(out) > render.MaxHomeRunning {
		return out[:render.MaxHomeRunning], len(out) - render.MaxHomeRunning, false
	}
	return out, 0, false
}

// HandleHomeAction handles a click on a button of the Home tab: as a click
// on the job's card, in the job's channel, for a member of that channel;
// then the tab is drawn again.
func (b *Bot) HandleHomeAction(ctx context.Context, req Request, actionID, value string) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		b.log.Warn("home button with a bad job id", "user", req.UserID, "value", value)
		return
	}
	notice := ""
	var channels []string
	rec, err := b.cfg.Store.Get(ctx, id)
	switch {
	case err != nil:
		notice = fmt.Sprintf("I no longer remember job %d.", id)
	default:
		var cerr error
		channels, _, cerr = b.cfg.Poster.UserChannels(ctx, req.UserID)
		switch {
		case cerr != nil:
			b.log.Warn("home: list the person's channels", "user", req.UserID, "err", cerr)
			notice = fmt.Sprintf("I could not check that you are in job %d's channel. Use the card's buttons there, or try again.", id)
		case !slices.Contains(channels, rec.Channel):
			b.log.Warn("home click on a job of a channel the person is not in", "user", req.UserID, "job_id", id)
			notice = fmt.Sprintf("Job %d belongs to a channel you are not in: it can be acted on only there.", id)
		default:
			req.ChannelID = rec.Channel
			b.HandleAction(ctx, req, actionID, value)
		}
	}
	b.drawHome(ctx, req.UserID, notice, channels)
}
