package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// auditMaxLen bounds the audit stream; older entries are trimmed.
const auditMaxLen = 100_000

// AuditEntry is one recorded action: a run, re-run, stop, confirmation or
// denial. Variables hold masked values only: the audit trail never has a
// secret in clear.
type AuditEntry struct {
	At        time.Time
	Action    string // run, rerun, stop, confirm, cancel, deny
	User      string
	Channel   string
	Preset    string
	ClusterID int64
	PackageID int64
	JobID     int64
	Variables string // rendered, secrets masked
	Outcome   string // started, refused, denied, unknown, stopping, confirmed, expired, …
	Detail    string // e.g. Xplenty's reason, the rule that allowed it
}

// Audit appends an entry to the audit stream. When the store waits for a
// replica (Options.ReplicaWait) it returns once the replica has it
// (durably), and so, replication keeping order,
// everything the act wrote before it: the job it tracked, the settings it
// changed.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	err := s.durably(ctx, WriteAudit, func(p redis.Pipeliner) {
		p.XAdd(ctx, &redis.XAddArgs{
			Stream: s.keys.Audit(), MaxLen: auditMaxLen, Approx: true,
			Values: []any{
				"at", e.At.UTC().Format(time.RFC3339Nano), "action", e.Action, "user", e.User,
				"channel", e.Channel, "preset", e.Preset, "cluster", e.ClusterID, "package", e.PackageID,
				"job", e.JobID, "variables", e.Variables, "outcome", e.Outcome, "detail", e.Detail,
			},
		})
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditSince returns the entries recorded at or after since, oldest first,
// at most limit of them (the newest).
func (s *Store) AuditSince(ctx context.Context, since time.Time, limit int64) ([]AuditEntry, error) {
	start := strconv.FormatInt(since.UnixMilli(), 10)
	msgs, err := s.rdb.XRevRangeN(ctx, s.keys.Audit(), "+", start, limit).Result()
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	out := make([]AuditEntry, 0, len(msgs))
	for i := len(msgs) - 1; i >= 0; i-- {
		v := msgs[i].Values
		str := func(k string) string { s, _ := v[k].(string); return s }
		num := func(k string) int64 { n, _ := strconv.ParseInt(str(k), 10, 64); return n }
		at, _ := time.Parse(time.RFC3339Nano, str("at"))
		if at.Before(since) {
			continue // recorded late (the stream id is the time of writing)
		}
		out = append(out, AuditEntry{
			At: at, Action: str("action"), User: str("user"), Channel: str("channel"), Preset: str("preset"),
			ClusterID: num("cluster"), PackageID: num("package"), JobID: num("job"),
			Variables: str("variables"), Outcome: str("outcome"), Detail: str("detail"),
		})
	}
	return out, nil
}
