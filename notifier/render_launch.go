package notifier

import "github.com/slack-go/slack"

// LostLaunchCard renders the card of a launch whose details the bot can no
// longer read (they were sealed with a key that is no longer configured):
// the job may or may not have started, and nothing but the card's place is
// known, so the card says so and points to the Xplenty jobs page.
func LostLaunchCard(jobsPageURL string) Message {
	page := "the Xplenty jobs page"
	if target, ok := linkTarget(jobsPageURL); ok {
		page = "<" + target + "|the Xplenty jobs page>"
	}
	line := "⚠️ *runjob lost track of this launch*\nIts details could not be read (the key they were sealed with is no longer configured), " +
		"so the job may or may not have started – check " + page + " before running it again."
	fallback := "runjob lost track of this launch: its details could not be read; check the Xplenty jobs page before running it again"
	return message(fallback, []slack.Block{section(blockSummary, line)})
}
