// Package shell is `runjob-bot shell`, a terminal chat with the real bot.
//
// It runs the bot (app.Serve, unchanged) against an in-process fake Slack:
// the bot connects over Socket Mode as in production, the shell types slash
// commands and clicks buttons through the fake, and prints what the bot
// posts there. Xplenty is an in-process sandbox unless XPLENTY_ACCOUNT_ID
// and XPLENTY_API_KEY are set; Redis is an embedded miniredis unless
// REDIS_URL is set. There is one code path: only the ends are swapped.
//
// The bot's run form (a modal) is shown as text and filled in from the
// same input: :form types /runjob with no text, :edit clicks Edit & re-run
// on a job's card, and the shell then asks for each field in turn, doing in
// the fake what a person does in Slack's client (a search, a choice, typing
// in the variables box, Run), until the bot closes the form and posts the
// job's card or the person closes it (:cancel-form, end of input).
package shell
