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

	"github.com/runjob/runjob/xplenty"
)

// OutboxEntry is one thread message waiting in the outbox stream.
type OutboxEntry struct {
	ID     string // the stream entry's id
	Kind   string // "reply"; "card" from before the cards set
	Job    string // the job id as written
	JobID  int64  // Job parsed, 0 when it does not parse
	Status xplenty.Status
}

func outboxEntries(msgs []redis.XMessage) []OutboxEntry {
	out := make([]OutboxEntry, len(msgs))
	for i, m := range msgs {
		kind, _ := m.Values["kind"].(string)
		job := fmt.Sprint(m.Values["job"])
		id, _ := strconv.ParseInt(job, 10, 64)
		out[i] = OutboxEntry{ID: m.ID, Kind: kind, Job: job, JobID: id, Status: xplenty.Status(fmt.Sprint(m.Values["status"]))}
	}
	return out
}

// EnsureOutboxGroup creates the outbox's consumer group (and the stream)
// unless it exists.
func (s *Store) EnsureOutboxGroup(ctx context.Context) error {
	err := s.rdb.XGroupCreateMkStream(ctx, s.keys.Outbox(), outboxGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create outbox group: %w", err)
	}
	return nil
}

// ReadOutbox reads up to count new entries for consumer, waiting at most
// block for one; none (nil) when none came, or when ctx ended meanwhile.
func (s *Store) ReadOutbox(ctx context.Context, consumer string, count int64, block time.Duration) ([]OutboxEntry, error) {
	streams, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: outboxGroup, Consumer: consumer,
		Streams: []string{s.keys.Outbox(), ">"}, Count: count, Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) || (err != nil && ctx.Err() != nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	var out []OutboxEntry
	for _, st := range streams {
		out = append(out, outboxEntries(st.Messages)...)
	}
	return out, nil
}

// ClaimOutbox takes over for consumer up to count entries that stayed
// unacknowledged for minIdle, scanning from start; next is where the next
// scan starts ("0-0" or "" once the scan is through).
func (s *Store) ClaimOutbox(ctx context.Context, consumer string, minIdle time.Duration, start string, count int64) (entries []OutboxEntry, next string, err error) {
	msgs, next, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: s.keys.Outbox(), Group: outboxGroup, Consumer: consumer,
		MinIdle: minIdle, Start: start, Count: count,
	}).Result()
	if err != nil {
		return nil, "", fmt.Errorf("claim outbox: %w", err)
	}
	return outboxEntries(msgs), next, nil
}

// OutboxConsumer is one consumer of the outbox group.
type OutboxConsumer struct {
	Name    string
	Pending int64
	Idle    time.Duration
}

// OutboxConsumers lists the consumers of the outbox group.
func (s *Store) OutboxConsumers(ctx context.Context) ([]OutboxConsumer, error) {
	cs, err := s.rdb.XInfoConsumers(ctx, s.keys.Outbox(), outboxGroup).Result()
	if err != nil {
		return nil, err
	}
	out := make([]OutboxConsumer, len(cs))
	for i, c := range cs {
		out[i] = OutboxConsumer{Name: c.Name, Pending: c.Pending, Idle: c.Idle}
	}
	return out, nil
}

// RemoveOutboxConsumer removes a consumer from the outbox group.
func (s *Store) RemoveOutboxConsumer(ctx context.Context, name string) error {
	return s.rdb.XGroupDelConsumer(ctx, s.keys.Outbox(), outboxGroup, name).Err()
}

// AckOutbox acknowledges and deletes an outbox entry in one round trip; the
// stream holds only what is due.
func (s *Store) AckOutbox(ctx context.Context, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, s.keys.Outbox(), outboxGroup, id)
		p.XDel(ctx, s.keys.Outbox(), id)
		return nil
	})
	return err
}

// ChannelsOf returns the channel each entry's job posts in; when it cannot
// be read (the record expired, Redis failed) "job:" and the job id stand
// in, which keeps that job's messages in order all the same.
func (s *Store) ChannelsOf(ctx context.Context, entries []OutboxEntry) []string {
	out := make([]string, len(entries))
	cmds := make([]*redis.StringCmd, len(entries))
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range entries {
			cmds[i] = p.HGet(ctx, s.keys.Job(e.JobID), fSpec)
		}
		return nil
	})
	for i, e := range entries {
		var sp struct {
			Channel string `json:"channel"`
		}
		if json.Unmarshal([]byte(cmds[i].Val()), &sp) == nil && sp.Channel != "" {
			out[i] = sp.Channel
		} else {
			out[i] = "job:" + e.Job
		}
	}
	return out
}
