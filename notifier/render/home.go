package render

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/notifier/job"
)

// Home is what a person's Home tab shows: their last jobs, and the jobs
// running now in channels where they may act on them.
type Home struct {
	// Mine are the person's last jobs, newest first (at most MaxHomeJobs).
	Mine []job.Record
	// Running are jobs running now in their channels (at most
	// MaxHomeRunning); MoreRunning counts those left out.
	Running     []job.Record
	MoreRunning int
	// MineUnknown and RunningUnknown are set when the bot could not read
	// that part (Redis, or Slack's list of the person's channels, failed):
	// the tab says so rather than "none".
	MineUnknown, RunningUnknown bool
	// Now is when the tab was drawn.
	Now time.Time
}

// The Home tab's bounds: Slack takes at most 100 blocks in a view, and
// each job takes two.
const (
	MaxHomeJobs    = 10
	MaxHomeRunning = 30
)

// slackChannelID is the shape of a channel id the bot writes as <#id>.
var slackChannelID = regexp.MustCompile(`^[CGD][A-Z0-9]{1,23}$`)

// HomeView is a person's Home tab. It is drawn when they open it, not kept
// up to date: the footer says when.
func HomeView(h Home) slack.HomeTabViewRequest {
	blocks := []slack.Block{section("home_mine", "*Your last jobs*")}
	switch {
	case h.MineUnknown:
		blocks = append(blocks, slack.NewContextBlock("home_mine_unknown",
			mrkdwn("I could not read your jobs just now. Open the tab again in a minute.")))
	case len(h.Mine) == 0:
		blocks = append(blocks, slack.NewContextBlock("home_mine_none",
			mrkdwn("You have not started a job yet. Type `/runjob` in a channel to open the run form.")))
	}
	for _, r := range h.Mine[:min(len(h.Mine), MaxHomeJobs)] {
		blocks = append(blocks, homeJob(r, "mine")...)
	}
	blocks = append(blocks, section("home_running", "*Running now in your channels*"))
	switch {
	case h.RunningUnknown:
		blocks = append(blocks, slack.NewContextBlock("home_running_unknown",
			mrkdwn("I could not check which channels you are in, so running jobs are not shown. Open the tab again in a minute.")))
	case len(h.Running) == 0:
		blocks = append(blocks, slack.NewContextBlock("home_running_none", mrkdwn("Nothing is running in your channels.")))
	}
	for _, r := range h.Running[:min(len(h.Running), MaxHomeRunning)] {
		blocks = append(blocks, homeJob(r, "running")...)
	}
	if more := h.MoreRunning + max(0, len(h.Running)-MaxHomeRunning); more > 0 {
		blocks = append(blocks, slack.NewContextBlock("home_running_more",
			mrkdwn(fmt.Sprintf("…and %d more. `/runjob list` in a channel shows its jobs.", more))))
	}
	blocks = append(blocks, slack.NewContextBlock("home_footer", mrkdwn(fmt.Sprintf(
		"As of <!date^%d^{time}|%s>: open the tab again to refresh it. Buttons act in the job's own channel.",
		h.Now.Unix(), h.Now.UTC().Format(time.RFC3339)))))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

// homeJob is a job's line and its card's buttons; part keeps the block
// ids of a job shown in both parts of the tab apart.
func homeJob(r job.Record, part string) []slack.Block {
	rd := newRenderer(r.Variables, r.DynamicVariables, r.SecretNames)
	emoji, word := statusLabel(r)
	line := fmt.Sprintf("%s *Job %d* · %s · %s", emoji, r.JobID, word, rd.target(r.Run, true, "package"))
	if slackChannelID.MatchString(r.Channel) {
		line += " · in <#" + r.Channel + ">"
	}
	if part == "running" && r.Requester != "" {
		line += " · started by " + mention(r.Requester)
	}
	if !r.CreatedAt.IsZero() {
		line += fmt.Sprintf(" · <!date^%d^{date_short_pretty} {time}|%s>", r.CreatedAt.Unix(), r.CreatedAt.UTC().Format(time.RFC3339))
	}
	if target, ok := linkTarget(r.HTMLURL); ok {
		line += " · <" + target + "|open>"
	}
	id := strconv.FormatInt(r.JobID, 10)
	return []slack.Block{
		section("home_"+part+"_"+id, line),
		slack.NewActionBlock("home_"+part+"_actions_"+id, jobButtons(r, isStopping(r))...),
	}
}
