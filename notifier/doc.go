// Package notifier is what the bot tells Slack about a job, and how it makes
// sure Slack hears it exactly once. This package is the watcher (Watcher):
// it turns Xplenty's status changes into recorded changes and queued
// messages, polling every interval, or sooner when woken (Xplenty's web
// hooks, through the store from any replica; wake.go). The rest lives in sub-packages, one job each:
//
//   - job: what the bot knows about one followed job (Record), and the
//     statuses it gives a job it stopped following;
//   - render: the Block Kit cards, replies and notes with their plain-text
//     fallbacks, and the masking of secret values (Scrubber);
//   - store: the job registry in Redis (Store), the source of truth for
//     tracking, with every key, Lua script and sealed value;
//   - deliver: the Slack side: the Poster (pacing, retries), Slack's rate
//     limits as budgets shared by every replica (Budgets), and the
//     Deliverer, which retries until Slack accepts and never posts a thread
//     reply twice;
//   - loop: what every long-running loop shares, a cancellable sleep and
//     panic recovery.
//
// A change goes Xplenty → Watcher → store.Store.Observe (one atomic script:
// record the status, mark the card for an edit in the cards set and, for a
// terminal status, queue the one reply in the outbox stream) →
// deliver.Deliverer (replies in per-channel lanes, card edits in a loop of
// their own) → deliver.Poster, paced by the budgets → Slack.
package notifier
