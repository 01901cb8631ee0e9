package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/xplenty"
)

// DefaultRetention is how long a finished job's record is kept.
const DefaultRetention = 30 * 24 * time.Hour

// recentPerChannel bounds the per-channel index behind `/runjob list`.
const recentPerChannel = 200

// ErrNotTracked is returned for a job id the bot does not know.
var ErrNotTracked = errors.New("job is not tracked")

// ErrAlreadyTracked is returned when a job is already followed on another
// card.
var ErrAlreadyTracked = errors.New("job is already tracked on another card")

// StoreOptions configure a Store.
type StoreOptions struct {
	Prefix    string           // key prefix, default DefaultPrefix
	Retention time.Duration    // how long finished records live, default DefaultRetention
	Now       func() time.Time // clock, default time.Now
	// SecretKey, when set, encrypts the values of secret variables
	// (Record.SecretNames) before they reach Redis; Re-run decrypts them.
	SecretKey []byte
	// PreviousSecretKey, when set, only decrypts: values sealed before
	// SecretKey replaced it stay readable while a rotation is under way.
	PreviousSecretKey []byte
	// LegacySecretKey, when set, only decrypts: the Xplenty API key, which
	// sealed every v1 value ("sealed:v1:", from before key ids) and, while
	// RUNJOB_SECRET_KEY was unset, v2 values too.
	LegacySecretKey []byte
	// CardEvery is how often a card's edits for progress alone may go
	// out; status changes go out at once. Default DefaultCardEvery.
	CardEvery time.Duration
}

// Store is the job registry in Redis, the source of truth for tracking:
// nothing the watcher or the delivery path needs lives only in memory.
type Store struct {
	rdb       redis.UniversalClient
	keys      keys
	retention time.Duration
	now       func() time.Time
	sealer    *sealer
	cardEvery time.Duration
}

// NewStore returns a Store on rdb.
func NewStore(rdb redis.UniversalClient, opts StoreOptions) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("notifier: nil redis client")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CardEvery <= 0 {
		opts.CardEvery = DefaultCardEvery
	}
	sl, err := newSealer(opts.SecretKey, opts.PreviousSecretKey, opts.LegacySecretKey)
	if err != nil {
		return nil, fmt.Errorf("notifier: %w", err)
	}
	return &Store{rdb: rdb, keys: keys{opts.Prefix}, retention: opts.Retention, now: opts.Now, sealer: sl, cardEvery: opts.CardEvery}, nil
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// spec is the part of a record fixed when the job starts, stored as one
// JSON field; the parts the watcher changes are hash fields of their own so
// that the transition script can compare and set them atomically.
type spec struct {
	// Version is specVersion for specs written since sealed values are
	// kept apart (SealedVariables, SealedDynamic); 0 for older ones.
	Version          int               `json:"v,omitempty"`
	Channel          string            `json:"channel"`
	CardTS           string            `json:"card_ts"`
	Requester        string            `json:"requester"`
	ClusterID        int64             `json:"cluster_id"`
	PackageID        int64             `json:"package_id"`
	Preset           string            `json:"preset,omitempty"`
	Variables        map[string]string `json:"variables,omitempty"`
	DynamicVariables map[string]string `json:"dynamic_variables,omitempty"`
	SealedVariables  map[string]string `json:"sealed_variables,omitempty"`
	SealedDynamic    map[string]string `json:"sealed_dynamic_variables,omitempty"`
	SecretNames      []string          `json:"secret_names,omitempty"`
	RerunOf          int64             `json:"rerun_of,omitempty"`
	CreatedAt        time.Time         `json:"created_at"`
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
	fRev             = "rev"      // bumped on every change that the card shows
	fCardRev         = "card_rev" // the rev the card in Slack shows
	fCardAt          = "card_at"  // when the card was last edited (unix ms)
	// The Lua scripts also keep "misses" (not-found answers in a row) and
	// "lost" (the watcher gave the job up).
)

// trackScript records a job in one step: claim the spec for this card
// (a job already tracked for another card, a lost run answer adopted twice,
// is not taken over; the same card again is a harmless retry), set the
// fields the watcher changes, add the job to the active set and the
// channel's index, and forget the launch it came from. A crash can leave
// either nothing or all of it: never a record without status (which the
// watcher would ignore forever), nor a launch still pending for a job that
// is tracked (which recovery would take for lost).
//
// When nothing else is followed, the new job sets where the watcher starts
// reading Xplenty's changes (so that one new job after a quiet month does
// not make it read the month's history); otherwise the mark is the
// watcher's. This is decided before the job joins the active set.
//
// KEYS: job hash, active set, watermark, channel index, intents, intent.
// ARGV: spec, channel, card ts, status, progress, html_url, now (ms),
// created (ms), mark (RFC 3339), id, per-channel bound, retention (s),
// intent id ("" for none). It returns 1, 0 for another card, -1 when the
// record there does not decode.
var trackScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'spec')
if cur then
  local ok, sp = pcall(cjson.decode, cur)
  if not ok or type(sp) ~= 'table' then return -1 end
  if sp['channel'] ~= ARGV[2] or sp['card_ts'] ~= ARGV[3] then return 0 end
else
  redis.call('HSET', KEYS[1], 'spec', ARGV[1])
end
if redis.call('ZCARD', KEYS[2]) == 0 then
  local mark = redis.call('GET', KEYS[3])
  if not mark or mark < ARGV[9] then redis.call('SET', KEYS[3], ARGV[9]) end
end
redis.call('HSETNX', KEYS[1], 'status', ARGV[4])
redis.call('HSETNX', KEYS[1], 'progress', ARGV[5])
redis.call('HSETNX', KEYS[1], 'html_url', ARGV[6])
redis.call('HSETNX', KEYS[1], 'updated', ARGV[7])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
local st = redis.call('HGET', KEYS[1], 'status')
if st ~= 'completed' and st ~= 'failed' and st ~= 'stopped' then
  -- a retried Track after the job ended must not follow it again
  redis.call('ZADD', KEYS[2], ARGV[7], ARGV[10])
end
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[10])
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[11]) - 1)
redis.call('EXPIRE', KEYS[4], ARGV[12])
if ARGV[13] ~= '' then
  redis.call('DEL', KEYS[6])
  redis.call('ZREM', KEYS[5], ARGV[13])
end
return 1
`)

// Track starts following a job. Tracking the same job for the same card
// again is harmless; for another card it fails with ErrAlreadyTracked.
func (s *Store) Track(ctx context.Context, r Record) error { return s.TrackLaunch(ctx, r, "") }

// TrackLaunch is Track for the job of a launch remembered with SaveIntent:
// the launch is forgotten in the same step (not when the job is followed on
// another card: the launch's owner resolves it).
func (s *Store) TrackLaunch(ctx context.Context, r Record, intentID string) error {
	if r.JobID <= 0 || r.Channel == "" || r.CardTS == "" {
		return fmt.Errorf("track job %d: job id, channel and card ts are required", r.JobID)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	if r.Status == "" {
		r.Status = xplenty.StatusIdle
	}
	sp, err := json.Marshal(s.sealer.newSpec(r))
	if err != nil {
		return fmt.Errorf("track job %d: %w", r.JobID, err)
	}
	// The mark is set a minute before the job, for clock skew.
	n, err := trackScript.Run(ctx, s.rdb,
		[]string{s.keys.job(r.JobID), s.keys.active(), s.keys.since(), s.keys.channel(r.Channel), s.keys.intents(), s.keys.intent(intentID)},
		sp, r.Channel, r.CardTS, string(r.Status), formatFloat(r.Progress), r.HTMLURL, s.now().UnixMilli(),
		r.CreatedAt.UnixMilli(), r.CreatedAt.Add(-time.Minute).UTC().Format(time.RFC3339), r.JobID,
		recentPerChannel, int64(s.retention/time.Second), intentID,
	).Int()
	switch {
	case err != nil:
		return fmt.Errorf("track job %d: %w", r.JobID, err)
	case n == 0:
		return fmt.Errorf("track job %d: %w", r.JobID, ErrAlreadyTracked)
	case n < 0:
		return fmt.Errorf("track job %d: its record in Redis does not decode", r.JobID)
	}
	return nil
}

// Get returns the record of a tracked job, or ErrNotTracked.
func (s *Store) Get(ctx context.Context, id int64) (Record, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.job(id)).Result()
	if err != nil {
		return Record{}, fmt.Errorf("get job %d: %w", id, err)
	}
	if len(h) == 0 || h[fSpec] == "" {
		return Record{}, fmt.Errorf("get job %d: %w", id, ErrNotTracked)
	}
	return s.decodeRecord(id, h)
}

func (s *Store) decodeRecord(id int64, h map[string]string) (Record, error) {
	var sp spec
	if err := json.Unmarshal([]byte(h[fSpec]), &sp); err != nil {
		return Record{}, fmt.Errorf("decode job %d: %w", id, err)
	}
	r := Record{
		JobID: id, Channel: sp.Channel, CardTS: sp.CardTS, Requester: sp.Requester,
		ClusterID: sp.ClusterID, PackageID: sp.PackageID, Preset: sp.Preset,
		SecretNames: sp.SecretNames,
		RerunOf:     sp.RerunOf, CreatedAt: sp.CreatedAt,
		Status:          xplenty.Status(h[fStatus]),
		Errors:          h[fErrors],
		HTMLURL:         h[fHTMLURL],
		StopRequestedBy: h[fStopRequestedBy],
		StoppedBy:       h[fStoppedBy],
	}
	r.Variables, r.DynamicVariables, r.LostSecrets = s.sealer.openSpec(id, sp)
	r.Progress, _ = strconv.ParseFloat(h[fProgress], 64)
	r.Rev, _ = strconv.ParseInt(h[fRev], 10, 64)
	if v, err := strconv.ParseInt(h[fRuntime], 10, 64); err == nil {
		r.Runtime = time.Duration(v) * time.Second
	}
	if v, err := strconv.ParseInt(h[fUpdated], 10, 64); err == nil {
		r.UpdatedAt = time.UnixMilli(v).UTC()
	}
	if v, err := strconv.ParseInt(h[fFinished], 10, 64); err == nil {
		r.FinishedAt = time.UnixMilli(v).UTC()
	}
	if o := h[fOutputs]; o != "" {
		if err := json.Unmarshal([]byte(o), &r.Outputs); err != nil {
			return Record{}, fmt.Errorf("decode outputs of job %d: %w", id, err)
		}
	}
	return r, nil
}

// Recent returns up to n jobs started from a channel, newest first. Jobs
// whose records expired are left out.
func (s *Store) Recent(ctx context.Context, channel string, n int) ([]Record, error) {
	ids, err := s.rdb.ZRevRange(ctx, s.keys.channel(channel), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("recent jobs of %s: %w", channel, err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			n, _ := strconv.ParseInt(id, 10, 64)
			cmds[i] = p.HGetAll(ctx, s.keys.job(n))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent jobs of %s: %w", channel, err)
	}
	out := make([]Record, 0, len(ids))
	for i, id := range ids {
		h := cmds[i].Val()
		if len(h) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		r, err := s.decodeRecord(n, h)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Claim records key as handled for ttl and reports whether this caller is
// the first to claim it. It is how a redelivered envelope, a double click or
// a second replica is told to stand down: SET NX is atomic, unlike
// GET-then-SET.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.keys.dedupe(key), s.now().UTC().Format(time.RFC3339Nano), ttl).Result()
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", key, err)
	}
	return ok, nil
}

// Release gives up a claim, so that a command that failed before doing
// anything can be tried again.
func (s *Store) Release(ctx context.Context, key string) error {
	return s.rdb.Del(ctx, s.keys.dedupe(key)).Err()
}

// requestStopScript marks a stop request on a job that is not finished and
// marks its card due now, atomically. It returns 0 when the job is unknown, 2
// when it has already finished, 1 otherwise.
var requestStopScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 0 end
if st == 'completed' or st == 'failed' or st == 'stopped' then return 2 end
redis.call('HSET', KEYS[1], 'stop_requested_by', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('ZADD', KEYS[2], 'LT', ARGV[3], ARGV[1])
return 1
`)

// ErrFinished is returned when an action needs a job that has not ended.
var ErrFinished = errors.New("job has already finished")

// RequestStop records that user asked to stop a job, and queues a card edit
// so the card says "stopping…".
func (s *Store) RequestStop(ctx context.Context, id int64, user string) error {
	n, err := requestStopScript.Run(ctx, s.rdb, []string{s.keys.job(id), s.keys.cards()}, id, user, s.now().UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("request stop of job %d: %w", id, err)
	}
	switch n {
	case 0:
		return fmt.Errorf("request stop of job %d: %w", id, ErrNotTracked)
	case 2:
		return fmt.Errorf("request stop of job %d: %w", id, ErrFinished)
	}
	return nil
}

// Change says what Observe found.
type Change int

// What an observation changed.
const (
	Unchanged     Change = iota // nothing new, or the job is not tracked
	ProgressMoved               // same status, progress crossed a tenth: card marked due after CardEvery
	StatusChanged               // new status: card marked due now
	Finished                    // terminal status: card marked due now, thread reply queued
)

// observeScript applies what Xplenty says about a job to its record, and
// queues the messages the change calls for, in one atomic step: whatever
// replicas and retries observe the same change, it is recorded once and one
// reply is queued. A finished job never changes again. The card is marked
// in the cards set (one member per job, the earliest due time kept): due
// now for a new status, for progress alone no sooner than CardEvery after
// its last edit. A job given up (lost, unreadable) is left alone: its
// thread says the bot stopped following it, and a reply after that note
// would read out of order.
//
// KEYS: job hash, active set, outbox, cards. ARGV: id, status, progress,
// errors, html_url, runtime seconds, outputs JSON, now (ms), terminal (0/1),
// retention (s), card interval (ms).
var observeScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 0 end
if cur == 'completed' or cur == 'failed' or cur == 'stopped' then return 0 end
if redis.call('HEXISTS', KEYS[1], 'lost') == 1 then return 0 end
redis.call('ZADD', KEYS[2], 'XX', ARGV[8], ARGV[1])
redis.call('HDEL', KEYS[1], 'misses', 'read_failures', 'read_failure')
local change = 0
if cur ~= ARGV[2] then
  change = 2
else
  local p = tonumber(redis.call('HGET', KEYS[1], 'progress') or '0') or 0
  if math.floor(p * 10) ~= math.floor(tonumber(ARGV[3]) * 10) then change = 1 end
end
if change == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'progress', ARGV[3], 'errors', ARGV[4],
  'runtime', ARGV[6], 'outputs', ARGV[7], 'updated', ARGV[8])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'html_url', ARGV[5]) end
local due = tonumber(ARGV[8])
if change == 1 then
  local last = tonumber(redis.call('HGET', KEYS[1], 'card_at') or '0') or 0
  if last + tonumber(ARGV[11]) > due then due = last + tonumber(ARGV[11]) end
end
redis.call('ZADD', KEYS[4], 'LT', due, ARGV[1])
if ARGV[9] == '1' then
  if ARGV[2] == 'stopped' then
    local by = redis.call('HGET', KEYS[1], 'stop_requested_by')
    if by then redis.call('HSET', KEYS[1], 'stopped_by', by) end
  end
  redis.call('HSET', KEYS[1], 'finished', ARGV[8])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[10])
  redis.call('XADD', KEYS[3], '*', 'kind', 'reply', 'job', ARGV[1], 'status', ARGV[2])
  return 3
end
return change
`)

// Observe records what Xplenty reported about a job and queues the Slack
// messages the change calls for. Jobs the bot does not track are ignored.
func (s *Store) Observe(ctx context.Context, j xplenty.Job) (Change, error) {
	outputs := ""
	if len(j.Outputs) > 0 {
		b, err := json.Marshal(j.Outputs)
		if err != nil {
			return Unchanged, fmt.Errorf("observe job %d: %w", j.ID, err)
		}
		outputs = string(b)
	}
	terminal := "0"
	if j.Status.Terminal() {
		terminal = "1"
	}
	errorsText, err := s.scrubErrors(ctx, j.ID, j.Errors)
	if err != nil {
		return Unchanged, fmt.Errorf("observe job %d: %w", j.ID, err)
	}
	n, err := observeScript.Run(ctx, s.rdb,
		[]string{s.keys.job(j.ID), s.keys.active(), s.keys.outbox(), s.keys.cards()},
		j.ID, string(j.Status), formatFloat(clamp01(j.Progress)), errorsText, j.HTMLURL,
		j.RuntimeInSeconds, outputs, s.now().UnixMilli(), terminal, int64(s.retention/time.Second),
		s.cardEvery.Milliseconds(),
	).Int()
	if err != nil {
		return Unchanged, fmt.Errorf("observe job %d: %w", j.ID, err)
	}
	return Change(n), nil
}

// ActiveCount returns how many tracked jobs have not finished.
func (s *Store) ActiveCount(ctx context.Context) (int64, error) {
	return s.rdb.ZCard(ctx, s.keys.active()).Result()
}

// Stale returns up to n unfinished jobs not seen since before, oldest first.
func (s *Store) Stale(ctx context.Context, before time.Time, n int64) ([]int64, error) {
	ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: s.keys.active(), Start: "-inf", Stop: strconv.FormatInt(before.UnixMilli(), 10),
		ByScore: true, Count: n,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("stale jobs: %w", err)
	}
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if v, err := strconv.ParseInt(id, 10, 64); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// Seen marks a job as seen now without changing it (a poll that found no
// change), so it goes to the back of the stale queue.
func (s *Store) Seen(ctx context.Context, id int64) error {
	return s.rdb.ZAddXX(ctx, s.keys.active(), redis.Z{Score: float64(s.now().UnixMilli()), Member: id}).Err()
}

// Since returns the watcher's high-water mark; ok is false when no job was
// ever tracked.
func (s *Store) Since(ctx context.Context) (t time.Time, ok bool, err error) {
	v, err := s.rdb.Get(ctx, s.keys.since()).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read watermark: %w", err)
	}
	t, err = time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read watermark %q: %w", v, err)
	}
	return t, true, nil
}

// SetSince moves the watcher's high-water mark.
func (s *Store) SetSince(ctx context.Context, t time.Time) error {
	return s.rdb.Set(ctx, s.keys.since(), t.UTC().Format(time.RFC3339), 0).Err()
}

// leaseScript takes the lease when it is free, or renews it for its holder.
var leaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`)

// releaseScript deletes a lease or lock only if the caller holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Lease takes or renews the polling lease for holder; only the holder polls
// Xplenty, so replicas share the budget instead of multiplying its use.
func (s *Store) Lease(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	n, err := leaseScript.Run(ctx, s.rdb, []string{s.keys.leader()}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("watch lease: %w", err)
	}
	return n == 1, nil
}

// ReleaseLease gives the polling lease up if holder has it.
func (s *Store) ReleaseLease(ctx context.Context, holder string) error {
	return releaseScript.Run(ctx, s.rdb, []string{s.keys.leader()}, holder).Err()
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func clamp01(f float64) float64 {
	switch {
	case f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}

// ErrExpired is returned for a confirmation that is unknown or too old.
var ErrExpired = errors.New("confirmation expired")

// SavePending keeps a run that waits for its runner's confirmation.
// It may hold secret values, so it is sealed like them.
func (s *Store) SavePending(ctx context.Context, token string, data []byte, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, s.keys.confirm(token), s.sealer.seal("pending:"+token, string(data)), ttl).Err(); err != nil {
		return fmt.Errorf("save confirmation: %w", err)
	}
	return nil
}

// PeekPending returns a waiting run without taking it.
func (s *Store) PeekPending(ctx context.Context, token string) ([]byte, error) {
	v, err := s.rdb.Get(ctx, s.keys.confirm(token)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrExpired
	}
	if err != nil {
		return nil, fmt.Errorf("read confirmation: %w", err)
	}
	return s.openPending(token, v)
}

func (s *Store) openPending(token, v string) ([]byte, error) {
	plain, err := s.sealer.openBlob("pending:"+token, v)
	if err != nil {
		return nil, ErrExpired // sealed with another key: as good as gone
	}
	return []byte(plain), nil
}

// TakePending removes a waiting run and returns it; of two clicks racing,
// exactly one gets it (GETDEL is atomic).
func (s *Store) TakePending(ctx context.Context, token string) ([]byte, error) {
	v, err := s.rdb.GetDel(ctx, s.keys.confirm(token)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrExpired
	}
	if err != nil {
		return nil, fmt.Errorf("take confirmation: %w", err)
	}
	return s.openPending(token, v)
}

// cardRevScript records that the card shows rev, unless it already shows a
// later one, and when it was edited (progress edits are spaced from it).
var cardRevScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'card_rev') or '0') or 0
if tonumber(ARGV[1]) > cur and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'card_rev', ARGV[1], 'card_at', ARGV[2])
end
return 1
`)

// cardRev returns the rev the card in Slack shows and the record's rev.
func (s *Store) cardRev(ctx context.Context, id int64) (shown, current int64, err error) {
	v, err := s.rdb.HMGet(ctx, s.keys.job(id), fCardRev, fRev).Result()
	if err != nil {
		return 0, 0, fmt.Errorf("card rev of job %d: %w", id, err)
	}
	parse := func(x any) int64 { n, _ := strconv.ParseInt(fmt.Sprint(x), 10, 64); return n }
	return parse(v[0]), parse(v[1]), nil
}

func (s *Store) setCardRev(ctx context.Context, id, rev int64) error {
	return cardRevScript.Run(ctx, s.rdb, []string{s.keys.job(id)}, rev, s.now().UnixMilli()).Err()
}

// Lock takes a short-lived named lock for holder and reports whether it got
// it; Unlock releases it only if holder still has it (a lock that expired
// and was taken by another must not be released by the first).
func (s *Store) Lock(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.keys.lock(name), holder, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", name, err)
	}
	return ok, nil
}

// Unlock releases a lock taken with Lock, if holder still has it.
func (s *Store) Unlock(ctx context.Context, name, holder string) error {
	return releaseScript.Run(ctx, s.rdb, []string{s.keys.lock(name)}, holder).Err()
}

// QueueCard asks the deliverers to bring a job's card up to date, now.
func (s *Store) QueueCard(ctx context.Context, id int64) error {
	if err := s.markCard(ctx, id, s.now()); err != nil {
		return fmt.Errorf("queue card of job %d: %w", id, err)
	}
	return nil
}

// intentTTL bounds how long an unresolved launch is kept.
const intentTTL = 24 * time.Hour

// SaveIntent remembers a launch before its run request is sent, so that a
// job started by a process that died before tracking it is found later
// (the bot's RecoverLaunches). id names the launch (its card); data may
// hold secret values and is sealed.
func (s *Store) SaveIntent(ctx context.Context, id string, data []byte, asked time.Time) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.keys.intent(id), s.sealer.seal("intent:"+id, string(data)), intentTTL)
		p.ZAdd(ctx, s.keys.intents(), redis.Z{Score: float64(asked.UnixMilli()), Member: id})
		return nil
	})
	if err != nil {
		return fmt.Errorf("save launch: %w", err)
	}
	return nil
}

// DeleteIntent forgets a launch that was tracked or resolved.
func (s *Store) DeleteIntent(ctx context.Context, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.keys.intent(id))
		p.ZRem(ctx, s.keys.intents(), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget launch: %w", err)
	}
	return nil
}

// unknownKeyGrace is how long a launch sealed with a key this replica does
// not know is left for the others: during a rolling rotation, a replica
// that has the new key recovers it; only after this is it taken as lost.
const unknownKeyGrace = time.Hour

// StaleIntents returns up to n launches asked before the given time and
// still unresolved, oldest first; launches whose data expired are dropped.
// A launch whose data cannot be opened (sealed with a key that is gone) is
// returned with nil data: the launch's id still names its card. One sealed
// with a key this replica does not know is skipped for unknownKeyGrace.
func (s *Store) StaleIntents(ctx context.Context, before time.Time, n int64) (map[string][]byte, error) {
	zs, err := s.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{
		Key: s.keys.intents(), Start: "-inf", Stop: strconv.FormatInt(before.UnixMilli(), 10), ByScore: true, Count: n,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("stale launches: %w", err)
	}
	out := make(map[string][]byte, len(zs))
	for _, z := range zs {
		id := fmt.Sprint(z.Member)
		v, err := s.rdb.Get(ctx, s.keys.intent(id)).Result()
		if errors.Is(err, redis.Nil) {
			_ = s.rdb.ZRem(ctx, s.keys.intents(), id).Err()
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read launch: %w", err)
		}
		plain, err := s.sealer.openBlob("intent:"+id, v)
		if err != nil {
			asked := time.UnixMilli(int64(z.Score))
			if !s.sealer.knowsKey(v) && s.now().Sub(asked) < unknownKeyGrace {
				continue // another replica may have the key
			}
			// Sealed with a key that is gone: its details are lost, but
			// its id names the card, which must not stay "Starting…".
			out[id] = nil
			continue
		}
		out[id] = []byte(plain)
	}
	return out, nil
}

// lostAfter is how many "not found" answers in a row make the watcher stop
// following a job (Xplenty deleted it, or it belongs to another account).
const lostAfter = 3

// missScript counts a "not found" answer for a followed job; at lostAfter
// in a row it stops following the job, lets the record expire, and queues
// a note in the thread. It returns 1 when the job was given up.
var missScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st or st == 'completed' or st == 'failed' or st == 'stopped' then return 0 end
if redis.call('HEXISTS', KEYS[1], 'lost') == 1 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'misses', 1)
if n < tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'finished', ARGV[3], 'lost', 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('XADD', KEYS[3], '*', 'kind', 'reply', 'job', ARGV[1], 'status', 'lost')
return 1
`)

// Missed records that Xplenty answered "not found" for a followed job.
func (s *Store) Missed(ctx context.Context, id int64) (gaveUp bool, err error) {
	n, err := missScript.Run(ctx, s.rdb, []string{s.keys.job(id), s.keys.active(), s.keys.outbox()},
		id, lostAfter, s.now().UnixMilli(), int64(s.retention/time.Second)).Int()
	if err != nil {
		return false, fmt.Errorf("job %d not found: %w", id, err)
	}
	return n == 1, nil
}
