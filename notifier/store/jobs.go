package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/xplenty"
)

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
	MaxRuntimeMS     int64             `json:"max_runtime_ms,omitempty"`
	CreatedAt        time.Time         `json:"created_at"`
	// PackageName, ClusterName and PackageURL label the run on its card and
	// in its replies (commands.Run); specs written before the bot knew names
	// have none, and their jobs are shown by ids alone.
	PackageName string `json:"package_name,omitempty"`
	ClusterName string `json:"cluster_name,omitempty"`
	PackageURL  string `json:"package_url,omitempty"`
}

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
// KEYS: job hash, active set, watermark, channel index, intents, intent,
// and the requester's index when the job has a requester.
// ARGV: spec, channel, card ts, status, progress, html_url, now (ms),
// created (ms), mark (RFC 3339), id, per-channel bound, retention (s),
// intent id ("" for none), then the terminal statuses. It returns 1, 0 for another card, -1 when the
// record there does not decode.
var trackScript = script("track")

// Track starts following a job. Tracking the same job for the same card
// again is harmless; for another card it fails with ErrAlreadyTracked.
func (s *Store) Track(ctx context.Context, r job.Record) error { return s.TrackLaunch(ctx, r, "") }

// TrackLaunch is Track for the job of a launch remembered with SaveIntent:
// the launch is forgotten in the same step (not when the job is followed on
// another card: the launch's owner resolves it).
func (s *Store) TrackLaunch(ctx context.Context, r job.Record, intentID string) error {
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
	keys := []string{s.keys.Job(r.JobID), s.keys.Active(), s.keys.Since(), s.keys.Channel(r.Channel), s.keys.Intents(), s.keys.Intent(intentID)}
	if r.Requester != "" {
		keys = append(keys, s.keys.User(r.Requester))
	}
	// The mark is set a minute before the job, for clock skew.
	n, err := trackScript.Run(ctx, s.rdb, keys,
		withTerminal(sp, r.Channel, r.CardTS, string(r.Status), formatFloat(r.Progress), r.HTMLURL, s.now().UnixMilli(),
			r.CreatedAt.UnixMilli(), r.CreatedAt.Add(-time.Minute).UTC().Format(time.RFC3339), r.JobID,
			recentPerChannel, int64(s.retention/time.Second), intentID)...,
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
func (s *Store) Get(ctx context.Context, id int64) (job.Record, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Job(id)).Result()
	if err != nil {
		return job.Record{}, fmt.Errorf("get job %d: %w", id, err)
	}
	if len(h) == 0 || h[fSpec] == "" {
		return job.Record{}, fmt.Errorf("get job %d: %w", id, ErrNotTracked)
	}
	return s.decodeRecord(id, h)
}

func (s *Store) decodeRecord(id int64, h map[string]string) (job.Record, error) {
	var sp spec
	if err := json.Unmarshal([]byte(h[fSpec]), &sp); err != nil {
		return job.Record{}, fmt.Errorf("decode job %d: %w", id, err)
	}
	r := job.Record{
		JobID: id, Channel: sp.Channel, CardTS: sp.CardTS, Requester: sp.Requester,
		Run: commands.Run{ClusterID: sp.ClusterID, PackageID: sp.PackageID, Preset: sp.Preset,
			PackageName: sp.PackageName, ClusterName: sp.ClusterName, PackageURL: sp.PackageURL,
			SecretNames: sp.SecretNames, RerunOf: sp.RerunOf, MaxRuntime: time.Duration(sp.MaxRuntimeMS) * time.Millisecond},
		CreatedAt:       sp.CreatedAt,
		Status:          xplenty.Status(h[fStatus]),
		Errors:          h[fErrors],
		HTMLURL:         h[fHTMLURL],
		StopRequestedBy: h[fStopRequestedBy],
		StoppedBy:       h[fStoppedBy],
	}
	r.Variables, r.DynamicVariables, r.LostSecrets = s.sealer.openSpec(id, sp)
	r.ErrorSummary = h[fErrorSummary]
	if v := h[fActionItems]; v != "" {
		_ = json.Unmarshal([]byte(v), &r.ActionItems) // unreadable: none shown
	}
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
	if v, err := strconv.ParseInt(h[fStatusSince], 10, 64); err == nil {
		r.StatusSince = time.UnixMilli(v).UTC()
	}
	if o := h[fOutputs]; o != "" {
		if err := json.Unmarshal([]byte(o), &r.Outputs); err != nil {
			return job.Record{}, fmt.Errorf("decode outputs of job %d: %w", id, err)
		}
	}
	return r, nil
}

// Recent returns up to n jobs started from a channel, newest first. Jobs
// whose records expired are left out.
func (s *Store) Recent(ctx context.Context, channel string, n int) ([]job.Record, error) {
	return s.newestOf(ctx, s.keys.Channel(channel), n, "recent jobs of "+channel)
}

// RecentBy returns the last n jobs user started, newest first (those
// tracked before the bot kept each person's jobs are not among them).
func (s *Store) RecentBy(ctx context.Context, user string, n int) ([]job.Record, error) {
	return s.newestOf(ctx, s.keys.User(user), n, "recent jobs of "+user)
}

// Running returns up to n of the jobs followed now, those seen longest
// ago first, and how many are followed in all.
func (s *Store) Running(ctx context.Context, n int) ([]job.Record, int64, error) {
	total, err := s.rdb.ZCard(ctx, s.keys.Active()).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("running jobs: %w", err)
	}
	ids, err := s.rdb.ZRange(ctx, s.keys.Active(), 0, int64(n)-1).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("running jobs: %w", err)
	}
	recs, err := s.records(ctx, ids, "running jobs")
	return recs, total, err
}

// newestOf reads the records of the n newest ids of an index.
func (s *Store) newestOf(ctx context.Context, index string, n int, what string) ([]job.Record, error) {
	ids, err := s.rdb.ZRevRange(ctx, index, 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return s.records(ctx, ids, what)
}

// records reads the records of ids in one round trip, leaving out those
// Redis no longer has and those that do not decode (damaged, or written by
// a later version): one such record must not empty a list for everyone;
// Get, for the job alone, still says why it cannot be read.
func (s *Store) records(ctx context.Context, ids []string, what string) ([]job.Record, error) {
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			n, _ := strconv.ParseInt(id, 10, 64)
			cmds[i] = p.HGetAll(ctx, s.keys.Job(n))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make([]job.Record, 0, len(ids))
	for i, id := range ids {
		h := cmds[i].Val()
		if len(h) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		r, err := s.decodeRecord(n, h)
		if err != nil {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
