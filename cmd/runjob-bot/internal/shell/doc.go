// Package shell is `runjob-bot shell`, a terminal chat with the real bot.
//
// It runs the bot (app.Serve, unchanged) against an in-process fake Slack:
// the bot connects over Socket Mode as in production, the shell types slash
// commands and clicks buttons through the fake, and prints what the bot
// posts there. Xplenty is an in-process sandbox unless XPLENTY_ACCOUNT_ID
// and XPLENTY_API_KEY are set; Redis is an embedded miniredis unless
// REDIS_URL is set. There is one code path: only the ends are swapped.
package shell
