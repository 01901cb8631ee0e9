package render

import (
	"fmt"

	"github.com/slack-go/slack"
)

// FollowedElsewhereCard renders the card of a launch whose job turned out
// to be followed on another card already (a lost run answer, and the job
// was adopted there first): it says so, instead of "Starting…" forever,
// and links the job's page when its address is known. It has no buttons:
// the other card has them.
func FollowedElsewhereCard(s Starting, jobID int64, htmlURL string) Message {
	line := fmt.Sprintf("↪️ *Job %d started, but it is followed on another card*", jobID)
	fallback := fmt.Sprintf("Job %d (%s): started – followed on another card", jobID, TargetText(s.Run))
	return startingMessage(s, line, fallback, links(htmlURL))
}

// LostLaunchCard renders the card of a launch whose details the bot can no
// longer read (they were sealed with a key that is no longer configured):
// the job may or may not have started, and nothing but the card's place is
// known, so the card says so and points to the Xplenty jobs page.
func LostLaunchCard(jobsPageURL string) Message {
	page := Link(jobsPageURL, "the Xplenty jobs page")
	if page == "" {
		page = "the Xplenty jobs page"
	}
	line := "⚠️ *runjob lost track of this launch*\nIts details could not be read (the key they were sealed with is no longer configured), " +
		"so the job may or may not have started – check " + page + " before running it again."
	fallback := "runjob lost track of this launch: its details could not be read; check the Xplenty jobs page before running it again"
	return message(fallback, []slack.Block{section(blockSummary, line)})
}
