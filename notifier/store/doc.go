// Package store is the job registry in Redis, the source of truth for
// tracking: nothing the watcher or the delivery path needs lives only in
// memory. It holds everything the bot keeps in Redis: the jobs, the outbox
// stream of thread replies, the cards set of due card edits, the delivered,
// attempt and direct-message markers, what each channel hears of its jobs
// (NotifySettings), locks, the watcher's lease and mark, dedupe claims,
// launches and confirmations waiting (sealed), the audit trail, and the
// GCRA budgets that pace Slack calls (which call spends which budget is the
// deliver package's). keys.go names every key and hash field; the Lua
// scripts are lua/*.lua.
package store
