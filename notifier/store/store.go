package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
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

// Options configure a Store.
type Options struct {
	Prefix    string           // key prefix, default DefaultPrefix; tagged on a Cluster (EffectivePrefix)
	Retention time.Duration    // how long finished records live, default DefaultRetention
	Now       func() time.Time // clock, default time.Now
	// SecretKey, when set, encrypts the values of secret variables
	// (job.Record.SecretNames) before they reach Redis; Re-run decrypts them.
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
	// ReplicaWait, when set (Sentinel, or a Cluster whose slot's primary
	// has a replica: see DefaultReplicaWait), makes the writes that must
	// outlive a failover (claims, launch intents, the attempt markers of
	// replies and direct messages, audit entries) wait until a replica
	// has them (WAIT 1), at most this long each; see durably. On a
	// Cluster they then go to the slot's primary on a connection of their
	// own. Zero, for one server or a Cluster without replica, waits for
	// nothing.
	ReplicaWait time.Duration
	// OnUnreplicated, when set, is told of each such write no replica
	// confirmed within ReplicaWait, with what it was (WriteClaim, ...).
	OnUnreplicated func(what string)
}

// Store is the job registry in Redis, the source of truth for tracking:
// nothing the watcher or the delivery path needs lives only in memory.
type Store struct {
	rdb       redis.UniversalClient
	keys      Keys
	retention time.Duration
	now       func() time.Time
	sealer    *sealer
	cardEvery time.Duration
	// replicaWait and onUnreplicated: Options.ReplicaWait, OnUnreplicated.
	replicaWait    time.Duration
	onUnreplicated func(what string)
}

// New returns a Store on rdb.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("store: nil redis client")
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
		return nil, fmt.Errorf("store: %w", err)
	}
	prefix := EffectivePrefix(rdb, opts.Prefix)
	if _, cluster := rdb.(*redis.ClusterClient); cluster && HashTag(prefix) == "" {
		return nil, fmt.Errorf("store: on a Redis Cluster the key prefix %q gives the keys no hash tag (a '}' first): start it otherwise, or give it a tag like {runjob}", opts.Prefix)
	}
	return &Store{rdb: rdb, keys: Keys{prefix}, retention: opts.Retention, now: opts.Now, sealer: sl, cardEvery: opts.CardEvery,
		replicaWait: opts.ReplicaWait, onUnreplicated: opts.OnUnreplicated}, nil
}

// Now is the store's clock (Options.Now).
func (s *Store) Now() time.Time { return s.now() }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// ErrFinished is returned when an action needs a job that has not ended.
var ErrFinished = errors.New("job has already finished")

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
