package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Card edits do not queue: a job whose card needs an edit is one member of
// the cards set, scored by when the edit may go out. Marking it again keeps
// the earliest due time, so however many changes arrive while an edit
// waits, one edit goes out, rendered from the record's newest state; an
// edit superseded while waiting is never sent.

// DefaultCardEvery spaces a card's edits for progress alone: under
// chat.update's 50 calls a minute, about 25 running jobs fit.
const DefaultCardEvery = 30 * time.Second

// takeCardScript takes the card due first, if one is due: it is pushed back
// by the lease (a mark in the meantime brings it forward again) and its id
// and lease score are returned. Otherwise it returns {0, ms until the first
// due card, or -1 when none waits}.
//
// KEYS: cards. ARGV: now (ms), lease (ms).
var takeCardScript = script("take_card")

// doneCardScript removes a delivered card from the set unless it was
// marked again since it was taken.
var doneCardScript = script("done_card")

// TakeCard takes the card due first and holds it for hold (if its taker
// dies, it is due again after that); lease names the hold, for DoneCard.
// With none due, id is 0 and wait says how long until one is (negative:
// none waits).
func (s *Store) TakeCard(ctx context.Context, hold time.Duration) (id int64, lease string, wait time.Duration, err error) {
	v, err := takeCardScript.Run(ctx, s.rdb, []string{s.keys.Cards()}, s.now().UnixMilli(), hold.Milliseconds()).Int64Slice()
	if err != nil || len(v) != 2 {
		return 0, "", 0, fmt.Errorf("take a card edit: %w", err)
	}
	if v[0] == 0 {
		return 0, "", time.Duration(v[1]) * time.Millisecond, nil
	}
	return v[0], strconv.FormatInt(v[1], 10), 0, nil
}

// DoneCard removes a card taken with TakeCard once its edit is out (or can
// never go out), unless a newer change marked it meanwhile.
func (s *Store) DoneCard(ctx context.Context, id int64, lease string) error {
	return doneCardScript.Run(ctx, s.rdb, []string{s.keys.Cards()}, id, lease).Err()
}

// MarkCard makes a card due at t (unless it is due sooner): QueueCard's
// "now", or a retry's later time.
func (s *Store) MarkCard(ctx context.Context, id int64, t time.Time) error {
	return s.rdb.ZAddLT(ctx, s.keys.Cards(), redis.Z{Score: float64(t.UnixMilli()), Member: id}).Err()
}

// cardRevScript records that the card shows rev, unless it already shows a
// later one, and when it was edited (progress edits are spaced from it).
var cardRevScript = script("card_rev")

// CardRev returns the rev the card in Slack shows and the record's rev.
func (s *Store) CardRev(ctx context.Context, id int64) (shown, current int64, err error) {
	v, err := s.rdb.HMGet(ctx, s.keys.Job(id), fCardRev, fRev).Result()
	if err != nil {
		return 0, 0, fmt.Errorf("card rev of job %d: %w", id, err)
	}
	parse := func(x any) int64 { n, _ := strconv.ParseInt(fmt.Sprint(x), 10, 64); return n }
	return parse(v[0]), parse(v[1]), nil
}

// SetCardRev records that the card in Slack shows rev (see cardRevScript).
func (s *Store) SetCardRev(ctx context.Context, id, rev int64) error {
	return cardRevScript.Run(ctx, s.rdb, []string{s.keys.Job(id)}, rev, s.now().UnixMilli()).Err()
}

// QueueCard asks the deliverers to bring a job's card up to date, now.
func (s *Store) QueueCard(ctx context.Context, id int64) error {
	if err := s.MarkCard(ctx, id, s.now()); err != nil {
		return fmt.Errorf("queue card of job %d: %w", id, err)
	}
	return nil
}
