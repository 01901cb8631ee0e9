package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
)

// CardJob finds the tracked job whose card is cardTS in channel, looking at
// the channel's jobs created since the given time; ok is false when there
// is none. Recovery asks it before writing to a launch's card, so it never
// writes over the card of a job it follows.
func (s *Store) CardJob(ctx context.Context, channel, cardTS string, since time.Time) (id int64, ok bool, err error) {
	ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: s.keys.Channel(channel), Start: strconv.FormatInt(since.UnixMilli(), 10), Stop: "+inf", ByScore: true,
	}).Result()
	if err != nil {
		return 0, false, fmt.Errorf("jobs of card %s: %w", cardTS, err)
	}
	for _, m := range ids {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			continue
		}
		raw, err := s.rdb.HGet(ctx, s.keys.Job(n), fSpec).Result()
		if errors.Is(err, redis.Nil) {
			continue // expired
		}
		if err != nil {
			return 0, false, fmt.Errorf("jobs of card %s: %w", cardTS, err)
		}
		var sp spec
		if json.Unmarshal([]byte(raw), &sp) == nil && sp.Channel == channel && sp.CardTS == cardTS {
			return n, true, nil
		}
	}
	return 0, false, nil
}

// maxPendingLaunches bounds PendingLaunches. Launches are pending for the
// seconds of a run request (minutes at worst, until recovery resolves
// them); a thousand at once is far beyond any real use.
const maxPendingLaunches = 1000

// PendingLaunches returns the launches remembered with SaveIntent and not
// yet resolved, by id, except the one named. Launches that cannot be
// opened (sealed with a key no longer configured) or read are left out:
// they are not read back here, whatever they were.
func (s *Store) PendingLaunches(ctx context.Context, except string) (map[string]Intent, error) {
	ids, err := s.rdb.ZRange(ctx, s.keys.Intents(), 0, maxPendingLaunches-1).Result()
	if err != nil {
		return nil, fmt.Errorf("pending launches: %w", err)
	}
	cmds := make([]*redis.StringCmd, 0, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			cmds = append(cmds, p.Get(ctx, s.keys.Intent(id)))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("pending launches: %w", err)
	}
	out := make(map[string]Intent, len(ids))
	for i, id := range ids {
		if id == except {
			continue
		}
		v, err := cmds[i].Result()
		if err != nil {
			continue // expired
		}
		if in, err := s.openIntent(id, v); err == nil {
			out[id] = in
		}
	}
	return out, nil
}

// Contest marks a job that more than one pending launch could own (a lost
// run answer, and an identical launch pending): from then on no launch
// adopts it by looking for it, not even once the others are resolved, for
// as long as launches are kept.
func (s *Store) Contest(ctx context.Context, jobID int64) error {
	if err := s.rdb.Set(ctx, s.keys.Contested(jobID), "1", intentTTL).Err(); err != nil {
		return fmt.Errorf("contest job %d: %w", jobID, err)
	}
	return nil
}

// Contested reports whether Contest marked the job.
func (s *Store) Contested(ctx context.Context, jobID int64) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys.Contested(jobID)).Result()
	if err != nil {
		return false, fmt.Errorf("is job %d contested: %w", jobID, err)
	}
	return n == 1, nil
}

// intentTTL bounds how long an unresolved launch is kept.
const intentTTL = 24 * time.Hour

// Intent is a launch between "card posted" and "job tracked": what was
// asked, by whom, and the card that shows it. It is kept so that a job
// started by a process that died before tracking it is found later (the
// bot's RecoverLaunches). Its JSON names are the stored schema.
type Intent struct {
	Channel   string       `json:"channel"`
	CardTS    string       `json:"card_ts"`
	Requester string       `json:"requester"`
	Run       commands.Run `json:"launch"`
	Asked     time.Time    `json:"asked"`
}

// ID names the launch by its card, the one thing it has before a job id.
func (in Intent) ID() string { return in.Channel + ":" + in.CardTS }

// CardOf is the channel and card ts an intent id names.
func CardOf(id string) (channel, cardTS string) {
	channel, cardTS, _ = strings.Cut(id, ":")
	return channel, cardTS
}

// SaveIntent remembers a launch before its run request is sent. It may
// hold secret values, so it is sealed whole. When the store waits for a
// replica (Options.ReplicaWait) it returns once the replica has it
// (durably): were it lost in a failover, with the
// job's tracking after it, nothing would ever follow the job. The launch
// and its index entry are written in that order (not in one transaction,
// which WAIT cannot follow): a launch cut off between them was never sent
// to Xplenty, and its data expires.
func (s *Store) SaveIntent(ctx context.Context, in Intent) error {
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("save launch: %w", err)
	}
	id := in.ID()
	err = s.durably(ctx, WriteIntent, func(p redis.Pipeliner) {
		p.Set(ctx, s.keys.Intent(id), s.sealer.seal("intent:"+id, string(data)), intentTTL)
		p.ZAdd(ctx, s.keys.Intents(), redis.Z{Score: float64(in.Asked.UnixMilli()), Member: id})
	})
	if err != nil {
		return fmt.Errorf("save launch: %w", err)
	}
	return nil
}

// DeleteIntent forgets a launch that was tracked or resolved.
func (s *Store) DeleteIntent(ctx context.Context, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.keys.Intent(id))
		p.ZRem(ctx, s.keys.Intents(), id)
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
// still unresolved, by id; launches whose data expired are dropped. A
// launch whose data cannot be opened (sealed with a key that is gone) or
// read is returned as nil: the launch's id still names its card (CardOf).
// One sealed with a key this replica does not know is skipped for
// unknownKeyGrace.
func (s *Store) StaleIntents(ctx context.Context, before time.Time, n int64) (map[string]*Intent, error) {
	zs, err := s.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{
		Key: s.keys.Intents(), Start: "-inf", Stop: strconv.FormatInt(before.UnixMilli(), 10), ByScore: true, Count: n,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("stale launches: %w", err)
	}
	out := make(map[string]*Intent, len(zs))
	for _, z := range zs {
		id := fmt.Sprint(z.Member)
		v, err := s.rdb.Get(ctx, s.keys.Intent(id)).Result()
		if errors.Is(err, redis.Nil) {
			_ = s.rdb.ZRem(ctx, s.keys.Intents(), id).Err()
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read launch: %w", err)
		}
		in, err := s.openIntent(id, v)
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
		out[id] = &in
	}
	return out, nil
}

// openIntent opens and decodes a stored launch.
func (s *Store) openIntent(id, v string) (Intent, error) {
	var in Intent
	plain, err := s.sealer.openBlob("intent:"+id, v)
	if err != nil {
		return in, err
	}
	if err := json.Unmarshal([]byte(plain), &in); err != nil {
		return in, fmt.Errorf("decode launch %s: %w", id, err)
	}
	return in, nil
}
