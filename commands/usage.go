package commands

import "fmt"

// Usage returns the help text for /runjob help, in Slack mrkdwn. It holds
// no user text.
func Usage() string {
	return fmt.Sprintf(usage, MaxVariables, MaxNameLen, MaxValueLen, MaxTextLen)
}

const usage = "*Run an Xplenty job*\n" +
	"• `/runjob cluster=52 package=434` runs package 434 on cluster 52; the words may come in any order.\n" +
	"• `/runjob cluster=52 package=434 DATE=2026-11-01 MSG=\"hello world\"` sets variables.\n" +
	"• `/runjob cluster=52 package=434 NOW:=CurrentTime() D:=$OTHER_VAR` sets dynamic variables: " +
	"Xplenty expressions, sent as written.\n" +
	"• `/runjob cluster=\"prod etl\" package=orders_daily` names them instead: any case; an exact name wins, " +
	"else the one name that starts so. `/runjob packages [words]` and `/runjob clusters` list them.\n" +
	"• `/runjob nightly DATE=2026-11-01` runs the preset `nightly`, which sets the cluster and package.\n" +
	"• `/runjob` alone (or `/runjob form`) opens a form to pick them and type the variables.\n" +
	"*Follow jobs*\n" +
	"• `/runjob status 1001` shows a job; `/runjob stop 1001` stops it; " +
	"`/runjob rerun 1001` runs it again with the same parameters.\n" +
	"• `/runjob list` shows the recent jobs started from this channel.\n" +
	"• `/runjob notify` shows what this channel hears of its jobs; `/runjob notify failures` posts only failures " +
	"(`all` everything, `off` nothing; the card is kept up to date either way), " +
	"`/runjob notify broadcast=failures` also shows failures in the channel, " +
	"`/runjob notify mention=off` stops pinging whoever started a job.\n" +
	"• `/runjob help` shows this.\n" +
	"*Values*\n" +
	"• Double quotes group words and are removed: `MSG=\"hello world\"` sends hello world. " +
	"They go around the whole value; inside them, `\\\"` is a quote and `\\\\` a backslash: " +
	"`JSON=\"{\\\"a\\\":1}\"` sends {\"a\":1}.\n" +
	"• Single quotes group words and are kept, for Xplenty string literals: `S='a b'` sends 'a b'. " +
	"Between two letters, ' is just an apostrophe: `NOTE=don't`.\n" +
	"• An empty value is `X=\"\"`.\n" +
	"• Curly quotes count as straight ones. A link counts as what you typed " +
	"(`db.example.com`) or, with its own label, as its address. Mentions can't be used.\n" +
	"*Limits*: at most %d variables; names start with a letter or _, have letters, digits and _, " +
	"up to %d characters; values up to %d characters; the whole command up to %d characters."
