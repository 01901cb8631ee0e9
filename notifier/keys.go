package notifier

import (
	"strconv"

	"github.com/runjob/runjob/xplenty"
)

// DefaultPrefix is the prefix of every Redis key the bot writes.
const DefaultPrefix = "runjob:"

// keys names every Redis key the bot uses; no other file builds a key.
//
//	job:{id}               hash   one tracked job (see store.go for its fields)
//	active                 zset   ids of jobs not yet finished, scored by when last seen (unix ms)
//	channel:{channel}      zset   ids of jobs started from a channel, scored by creation (unix ms)
//	outbox                 stream thread messages to deliver to Slack (kind=reply; kind=card from before cards)
//	cards                  zset   job ids whose card needs an edit, scored by when it may go out (unix ms)
//	delivered:{id}:{status} string ts of the thread reply for that terminal status
//	attempt:{id}:{status}  string a post of that reply was tried (the thread is searched before another)
//	lock:{name}            string short-lived lock held while delivering one message
//	watch:since            string the watcher's high-water mark (RFC 3339)
//	watch:leader           string the replica currently polling Xplenty
//	dedupe:{key}           string an event or click already handled
//	confirm:{token}        string a run waiting for its runner to confirm it (protected targets)
//	audit                  stream the audit trail
//	intents                zset   launches between "card posted" and "job tracked", scored by when asked (unix ms)
//	intent:{card}          string one such launch (sealed), until tracked or resolved
//	contested:{id}         string a job that two pending launches could own: neither adopts it
//	budget:{name}          hash   a Slack rate budget shared by replicas: "update", "replies", or "post:{channel}"
type keys struct{ prefix string }

func (k keys) job(id int64) string { return k.prefix + "job:" + strconv.FormatInt(id, 10) }
func (k keys) active() string      { return k.prefix + "active" }
func (k keys) channel(ch string) string {
	return k.prefix + "channel:" + ch
}
func (k keys) outbox() string { return k.prefix + "outbox" }
func (k keys) cards() string  { return k.prefix + "cards" }
func (k keys) delivered(id int64, st xplenty.Status) string {
	return k.prefix + "delivered:" + strconv.FormatInt(id, 10) + ":" + string(st)
}
func (k keys) attempt(id int64, st xplenty.Status) string {
	return k.prefix + "attempt:" + strconv.FormatInt(id, 10) + ":" + string(st)
}
func (k keys) lock(name string) string     { return k.prefix + "lock:" + name }
func (k keys) since() string               { return k.prefix + "watch:since" }
func (k keys) leader() string              { return k.prefix + "watch:leader" }
func (k keys) dedupe(key string) string    { return k.prefix + "dedupe:" + key }
func (k keys) confirm(token string) string { return k.prefix + "confirm:" + token }
func (k keys) audit() string               { return k.prefix + "audit" }
func (k keys) intents() string             { return k.prefix + "intents" }
func (k keys) intent(id string) string     { return k.prefix + "intent:" + id }
func (k keys) contested(id int64) string {
	return k.prefix + "contested:" + strconv.FormatInt(id, 10)
}
func (k keys) budget(name string) string { return k.prefix + "budget:" + name }
