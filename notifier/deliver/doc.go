// Package deliver is the Slack side of the notifier: the Poster, the one
// path through which the bot writes to Slack and looks up user groups
// (posts, card edits, answers to one person; paced under the budgets,
// retrying only what is safe to retry, every call counted), the Budgets
// policy (which Slack method spends which budget of the store, at what
// rate), and the Deliverer, which takes thread replies from the outbox and
// card edits from the cards set and delivers them until Slack accepts them.
package deliver
