package render

import (
	"github.com/slack-go/slack"
)

// Mentions says whether a thread message about a job (its reply, a note)
// mentions the people it is about, which notifies them: a channel's
// `/runjob notify mention=off` makes its messages Quiet.
type Mentions bool

const (
	// Ping mentions the requester (and whoever stopped the job).
	Ping Mentions = true
	// Quiet mentions nobody. The message replies to the job's card, which
	// names the requester and whoever stopped the job; the card is edited,
	// and an edit notifies no one.
	Quiet Mentions = false
)

// blockDirect is the block that says, in a direct message, which channel
// the message was for.
const blockDirect = "runjob_direct"

// DirectReply is m, a thread reply or note about a job whose card is in
// channel, made into a direct message to the job's requester for when the
// channel can no longer take it (archived, or the bot was removed): it
// first says which channel it was for.
func DirectReply(m Message, channel string) Message {
	where := "a channel"
	if slackChannelID.MatchString(channel) {
		where = "<#" + channel + ">"
	}
	line := "You started this job in " + where + ", where I can no longer post (it was archived, or I was removed from it), so I am telling you here."
	blocks := []slack.Block{slack.NewContextBlock(blockDirect, mrkdwn(line))}
	if len(m.Blocks) > 0 {
		blocks = append(blocks, m.Blocks...)
	} else {
		blocks = append(blocks, section(blockSummary, m.Text))
	}
	return message("For "+where+": "+m.Text, blocks)
}
