// Package notifier is what the bot tells Slack about a job, and how it makes
// sure Slack hears it exactly once.
//
// It owns the job registry in Redis (Store: the source of truth for
// tracking), the watcher that turns Xplenty's status changes into queued
// messages (Watcher), the outbox delivery that retries until Slack accepts
// and never posts a thread reply twice (Deliverer, through Poster), and the
// Block Kit cards and replies with their plain-text fallbacks (render.go).
//
// A change goes Xplenty → Watcher → Store.Observe (one atomic script: record
// the status, queue a card edit and, for a terminal status, the one reply)
// → outbox stream → Deliverer → Slack.
package notifier
