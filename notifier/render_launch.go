package notifier

import "fmt"

// FollowedElsewhereCard renders the card of a launch whose job turned out
// to be followed on another card already (a lost run answer, and the job
// was adopted there first): it says so, instead of "Starting…" forever,
// and links the job's page when its address is known. It has no buttons:
// the other card has them.
func FollowedElsewhereCard(s Starting, jobID int64, htmlURL string) Message {
	line := fmt.Sprintf("↪️ *Job %d started, but it is followed on another card*", jobID)
	fallback := fmt.Sprintf("Job %d (package %d on cluster %d): started – followed on another card", jobID, s.PackageID, s.ClusterID)
	return startingMessage(s, line, fallback, links(htmlURL))
}
