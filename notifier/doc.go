// Package notifier is what the bot tells Slack about a job, and how it makes
// sure Slack hears it exactly once.
//
// It owns the job registry in Redis (Store: the source of truth for
// tracking), the watcher that turns Xplenty's status changes into queued
// messages (Watcher), the delivery that retries until Slack accepts and
// never posts a thread reply twice (Deliverer, through Poster), Slack's rate
// limits as budgets shared by every replica through Redis (Budgets), and the
// Block Kit cards and replies with their plain-text fallbacks (render.go).
//
// A change goes Xplenty → Watcher → Store.Observe (one atomic script: record
// the status, mark the card for an edit in the cards set and, for a terminal
// status, queue the one reply in the outbox stream) → Deliverer (replies in
// per-channel lanes, card edits in a loop of their own) → Poster, paced by
// the budgets → Slack.
package notifier
