package store

import (
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/xplenty"
)

// DefaultPrefix is the prefix of every Redis key the bot writes.
const DefaultPrefix = "runjob:"

// EffectivePrefix is the prefix the store puts before every key on rdb
// when asked for prefix. On a Redis Cluster (rdb is a *redis.ClusterClient)
// a prefix without a hash tag gets one: "runjob:" becomes "{runjob}:", so
// every key of the bot hashes to one slot and every script, transaction and
// pipeline stays valid (no CROSSSLOT) and atomic; two prefixes without a
// tag never become one. A prefix that already has a tag (HashTag) is kept
// as it is. On one server or behind Sentinel the prefix is kept, so the
// keys of existing deployments keep their names.
func EffectivePrefix(rdb redis.UniversalClient, prefix string) string {
	if _, cluster := rdb.(*redis.ClusterClient); !cluster || HashTag(prefix) != "" {
		return prefix
	}
	if tag, colon := strings.CutSuffix(prefix, ":"); colon && tag != "" {
		return "{" + tag + "}:"
	}
	// The prefix's text is kept, only the braces added: "runjob" becomes
	// "{runjob}", not "{runjob}:" (the keys of "runjob:"), and ":" becomes
	// "{:}". A prefix that starts with '}' gets no tag this way ("{}…" is
	// none): New refuses it on a Cluster.
	return "{" + prefix + "}"
}

// HashTag is the hash tag of key as Redis Cluster reads it: what lies
// between the first '{' and the first '}' after it, when that is not
// empty; otherwise "" and the whole key is hashed.
// https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
func HashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return ""
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return ""
	}
	return key[open+1 : open+1+end]
}

// Keys names every Redis key the bot uses; no other file builds a key.
// Every name starts with the store's prefix (EffectivePrefix): on a Redis
// Cluster that prefix carries one hash tag, so all the keys below live in
// one hash slot, on one primary. The scripts' atomic steps (a job's record,
// the active set, the outbox and the cards set changed together) are what
// exactly-once delivery rests on; one slot keeps them atomic. Cluster thus
// brings failover and a shared managed Redis to the bot, not a sharding of
// its own data, which is small. (The braces of {id} and the like below
// mark a part of the name, not a hash tag: a key's only tag is its
// prefix's.)
//
//	job:{id}               hash   one tracked job (its fields are named below)
//	active                 zset   ids of jobs not yet finished, scored by when last seen (unix ms)
//	channel:{channel}      zset   ids of jobs started from a channel, scored by creation (unix ms)
//	user:{user}            zset   ids of jobs a person started, scored by creation (unix ms), for their Home tab
//	outbox                 stream thread messages to deliver to Slack (kind=reply; kind=card from before cards)
//	cards                  zset   job ids whose card needs an edit, scored by when it may go out (unix ms)
//	delivered:{id}:{status} string ts of the thread reply for that terminal status ("skipped", "dm:{ts}": see MarkDelivered)
//	attempt:{id}:{status}  string a post of that reply was tried (the thread is searched before another)
//	dm:{id}:{status}       string that reply was tried as a direct message to the requester (never tried twice)
//	notify:{channel}       hash   what a channel hears of its jobs (/runjob notify; fields below), no expiry
//	lock:{name}            string short-lived lock held while delivering one message
//	watch:since            string the watcher's high-water mark (RFC 3339)
//	watch:offset           string "{mark} {n}": the next walk skips the first n jobs changed since that mark (only while it is watch:since)
//	watch:leader           string the replica currently polling Xplenty
//	watch:wake             channel pub/sub: wake-ups of the watcher (a web hook said a job changed)
//	dedupe:{key}           string an event or click already handled
//	confirm:{token}        string a run waiting for its runner to confirm it (protected targets)
//	audit                  stream the audit trail
//	intents                zset   launches between "card posted" and "job tracked", scored by when asked (unix ms)
//	intent:{card}          string one such launch (sealed), until tracked or resolved
//	contested:{id}         string a job that two pending launches could own: neither adopts it
//	budget:{name}          hash   a Slack rate budget shared by replicas: "update", "replies", "groups", "channels", or "post:{channel}"
//	history:{cluster}:{package} list the last historyLen ended jobs of a package on a cluster, newest first (JSON)
//	catalog:{kind}         string the packages or clusters of the account as bot/catalog last read them (kind: CatalogKind)
//	catalog:refresh:{kind} string until when (unix ms) no other replica may refresh that list
type Keys struct{ prefix string }

func (k Keys) Job(id int64) string { return k.prefix + "job:" + strconv.FormatInt(id, 10) }
func (k Keys) Active() string      { return k.prefix + "active" }
func (k Keys) Channel(ch string) string {
	return k.prefix + "channel:" + ch
}
func (k Keys) User(user string) string {
	return k.prefix + "user:" + user
}
func (k Keys) Outbox() string { return k.prefix + "outbox" }
func (k Keys) Cards() string  { return k.prefix + "cards" }
func (k Keys) Delivered(id int64, st xplenty.Status) string {
	return k.prefix + "delivered:" + strconv.FormatInt(id, 10) + ":" + string(st)
}
func (k Keys) Attempt(id int64, st xplenty.Status) string {
	return k.prefix + "attempt:" + strconv.FormatInt(id, 10) + ":" + string(st)
}
func (k Keys) DM(id int64, st xplenty.Status) string {
	return k.prefix + "dm:" + strconv.FormatInt(id, 10) + ":" + string(st)
}
func (k Keys) Notify(channel string) string { return k.prefix + "notify:" + channel }
func (k Keys) Lock(name string) string      { return k.prefix + "lock:" + name }
func (k Keys) Since() string                { return k.prefix + "watch:since" }
func (k Keys) Offset() string               { return k.prefix + "watch:offset" }
func (k Keys) Leader() string               { return k.prefix + "watch:leader" }
func (k Keys) Wake() string                 { return k.prefix + "watch:wake" }
func (k Keys) Dedupe(key string) string     { return k.prefix + "dedupe:" + key }
func (k Keys) Confirm(token string) string  { return k.prefix + "confirm:" + token }
func (k Keys) Audit() string                { return k.prefix + "audit" }
func (k Keys) Intents() string              { return k.prefix + "intents" }
func (k Keys) Intent(id string) string      { return k.prefix + "intent:" + id }
func (k Keys) Contested(id int64) string {
	return k.prefix + "contested:" + strconv.FormatInt(id, 10)
}
func (k Keys) Budget(name string) string { return k.prefix + "budget:" + name }
func (k Keys) History(cluster, pkg int64) string {
	return k.prefix + "history:" + strconv.FormatInt(cluster, 10) + ":" + strconv.FormatInt(pkg, 10)
}

func (k Keys) Catalog(kind CatalogKind) string { return k.prefix + "catalog:" + string(kind) }
func (k Keys) CatalogRefresh(kind CatalogKind) string {
	return k.prefix + "catalog:refresh:" + string(kind)
}

// Hash fields of job:{id}.
const (
	fSpec            = "spec"
	fStatus          = "status"
	fProgress        = "progress"
	fErrors          = "errors"
	fHTMLURL         = "html_url"
	fRuntime         = "runtime"
	fOutputs         = "outputs"
	fUpdated         = "updated"
	fFinished        = "finished"
	fStopRequestedBy = "stop_requested_by"
	fStoppedBy       = "stopped_by"
	fRev             = "rev"           // bumped on every change that the card shows
	fCardRev         = "card_rev"      // the rev the card in Slack shows
	fCardAt          = "card_at"       // when the card was last edited (unix ms)
	fStatusSince     = "status_since"  // when the job entered its status (unix ms)
	fErrorSummary    = "error_summary" // Xplenty's summary of a failure (log_summary.lua)
	fActionItems     = "action_items"  // its suggested actions, a JSON array (log_summary.lua)
	// fNoted prefixes the watchdog's markers, "noted:" and the note
	// status: set once, to the time the job had spent in its status (ms).
	fNoted = "noted:"
	// The Lua scripts also keep "misses" (not-found answers in a row) and
	// "lost" (the watcher gave the job up).
)

// Hash fields of job:{id} kept by readFailScript; any successful
// observation (observeScript) clears them.
const (
	fReadFailures = "read_failures" // failed reads in a row
	fReadFailure  = "read_failure"  // what the last one was, safe to show
)

// Hash fields of notify:{channel}; a field not set (or not readable) is
// DefaultNotify's.
const (
	fNotifyLevel     = "level"     // all, failures, off
	fNotifyBroadcast = "broadcast" // failures, off
	fNotifyMention   = "mention"   // on, off
)

// outboxGroup is the outbox stream's consumer group: every deliverer of
// every replica is a consumer of it.
const outboxGroup = "deliver"

// Keys returns the names of the store's keys.
func (s *Store) Keys() Keys { return s.keys }
