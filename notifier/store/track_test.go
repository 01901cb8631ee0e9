package store

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// crashHook makes every pipeline and transaction fail once armed: what a
// process that dies after its first command to Redis leaves behind.
type crashHook struct{ armed atomic.Bool }

func (h *crashHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *crashHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}

func (h *crashHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.armed.Load() {
			return &net.OpError{Op: "write", Net: "tcp", Err: errors.New("process died")}
		}
		return next(ctx, cmds)
	}
}

// Recording a job is one step: whatever happens to the process, Redis holds
// either no record or a whole one (status, active set, channel index), never
// a record the watcher ignores forever.
func TestTrackIsOneStep(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t)
	h := &crashHook{}
	rdb.AddHook(h)
	h.armed.Store(true)
	err := s.Track(ctx, testRecord(1001))
	h.armed.Store(false)

	fields, _ := rdb.HGetAll(ctx, s.keys.Job(1001)).Result()
	_, inActive := rdb.ZScore(ctx, s.keys.Active(), "1001").Result()
	switch {
	case err != nil && len(fields) != 0:
		t.Errorf("Track failed half-way and left a record without status: %v (err %v)", fields, err)
	case err == nil && (fields[fStatus] == "" || inActive != nil):
		t.Errorf("Track succeeded but the record is not whole: %v, active: %v", fields, inActive)
	}
	if err != nil {
		// A retry makes it whole.
		if err := s.Track(ctx, testRecord(1001)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.Get(ctx, 1001)
	if err != nil || r.Status == "" {
		t.Fatalf("record = %+v, %v", r, err)
	}
	if recent, _ := s.Recent(ctx, "C1", 10); len(recent) != 1 {
		t.Errorf("channel index holds %d jobs, want 1", len(recent))
	}
}

// Tracking the job of a launch forgets the launch in the same step, so
// "tracked" and "launch resolved" never disagree; a job followed on another
// card is refused and the launch is left to its owner.
func TestTrackLaunchForgetsTheLaunch(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	asked := time.Now().Add(-time.Hour)
	for _, card := range []string{"1", "2"} {
		if err := s.SaveIntent(ctx, Intent{Channel: "C1", CardTS: card, Asked: asked}); err != nil {
			t.Fatal(err)
		}
	}
	r := testRecord(1001)
	r.CardTS = "1"
	if err := s.TrackLaunch(ctx, r, "C1:1"); err != nil {
		t.Fatal(err)
	}
	left, err := s.StaleIntents(ctx, time.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := left["C1:1"]; ok || len(left) != 1 {
		t.Errorf("launches left = %v, want only C1:2", left)
	}
	// The same card again (a retry after a lost answer from Redis) is fine.
	if err := s.TrackLaunch(ctx, r, "C1:1"); err != nil {
		t.Errorf("retried TrackLaunch: %v", err)
	}
	other := r
	other.CardTS = "2"
	if err := s.TrackLaunch(ctx, other, "C1:2"); !errors.Is(err, ErrAlreadyTracked) {
		t.Errorf("TrackLaunch for another card: %v, want ErrAlreadyTracked", err)
	}
	if left, _ := s.StaleIntents(ctx, time.Now(), 10); len(left) != 1 {
		t.Errorf("launches left = %v, want C1:2 kept for its owner to resolve", left)
	}
	if got, _ := s.Get(ctx, 1001); got.CardTS != "1" {
		t.Errorf("card = %q, want the first card's", got.CardTS)
	}
}

// A job recorded for a card is found from the card, so that recovery never
// writes over the card of a job it follows.
func TestCardJob(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	r := testRecord(1001)
	if err := s.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	id, ok, err := s.CardJob(ctx, r.Channel, r.CardTS, r.CreatedAt.Add(-time.Minute))
	if err != nil || !ok || id != 1001 {
		t.Errorf("CardJob = %d, %v, %v; want 1001", id, ok, err)
	}
	if _, ok, _ := s.CardJob(ctx, r.Channel, "1700000099.000100", r.CreatedAt.Add(-time.Minute)); ok {
		t.Error("CardJob found a job for a card that has none")
	}
}
