package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// CardJob finds the tracked job whose card is cardTS in channel, looking at
// the channel's jobs created since the given time; ok is false when there
// is none. Recovery asks it before writing to a launch's card, so it never
// writes over the card of a job it follows.
func (s *Store) CardJob(ctx context.Context, channel, cardTS string, since time.Time) (id int64, ok bool, err error) {
	ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: s.keys.channel(channel), Start: strconv.FormatInt(since.UnixMilli(), 10), Stop: "+inf", ByScore: true,
	}).Result()
	if err != nil {
		return 0, false, fmt.Errorf("jobs of card %s: %w", cardTS, err)
	}
	for _, m := range ids {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			continue
		}
		raw, err := s.rdb.HGet(ctx, s.keys.job(n), fSpec).Result()
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
// opened (sealed with a key no longer configured) are left out: they are
// not read back here, whatever they were.
func (s *Store) PendingLaunches(ctx context.Context, except string) (map[string][]byte, error) {
	ids, err := s.rdb.ZRange(ctx, s.keys.intents(), 0, maxPendingLaunches-1).Result()
	if err != nil {
		return nil, fmt.Errorf("pending launches: %w", err)
	}
	cmds := make([]*redis.StringCmd, 0, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			cmds = append(cmds, p.Get(ctx, s.keys.intent(id)))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("pending launches: %w", err)
	}
	out := make(map[string][]byte, len(ids))
	for i, id := range ids {
		if id == except {
			continue
		}
		v, err := cmds[i].Result()
		if err != nil {
			continue // expired
		}
		plain, err := s.sealer.openBlob("intent:"+id, v)
		if err != nil {
			continue
		}
		out[id] = []byte(plain)
	}
	return out, nil
}

// Contest marks a job that more than one pending launch could own (a lost
// run answer, and an identical launch pending): from then on no launch
// adopts it by looking for it, not even once the others are resolved, for
// as long as launches are kept.
func (s *Store) Contest(ctx context.Context, jobID int64) error {
	if err := s.rdb.Set(ctx, s.keys.contested(jobID), "1", intentTTL).Err(); err != nil {
		return fmt.Errorf("contest job %d: %w", jobID, err)
	}
	return nil
}

// Contested reports whether Contest marked the job.
func (s *Store) Contested(ctx context.Context, jobID int64) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys.contested(jobID)).Result()
	if err != nil {
		return false, fmt.Errorf("is job %d contested: %w", jobID, err)
	}
	return n == 1, nil
}
