package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/xplenty"
)

// logSummaryScript keeps a failure summary on a job still running; see
// lua/log_summary.lua.
var logSummaryScript = script("log_summary")

// maxActionItems bounds the action items kept for one failure.
const maxActionItems = 10

// WantsDiagnosis reports whether a job the watcher sees failed is one of
// the bot's whose end is not recorded yet: the one moment its failure
// summary is worth one extra call to Xplenty.
func (s *Store) WantsDiagnosis(ctx context.Context, id int64) (bool, error) {
	st, err := s.rdb.HGet(ctx, s.keys.Job(id), fStatus).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("status of job %d: %w", id, err)
	}
	return !xplenty.Status(st).Terminal(), nil
}

// SetLogSummary keeps Xplenty's summary of why a job failed (its error
// summary and suggested action items) on the job, scrubbed of the job's
// secret values first, for the failure reply. It does nothing for a job
// that is not tracked or has already ended.
func (s *Store) SetLogSummary(ctx context.Context, id int64, summary string, actionItems []string) error {
	actionItems = actionItems[:min(len(actionItems), maxActionItems)]
	if summary == "" && !slices.ContainsFunc(actionItems, func(it string) bool { return it != "" }) {
		return nil // nothing to keep
	}
	scrub, err := s.scrubberOf(ctx, id) // the job's spec, read once for all the texts
	if err != nil {
		return err
	}
	if summary != "" {
		summary = scrub(summary)
	}
	items := make([]string, 0, len(actionItems))
	for _, it := range actionItems {
		if it == "" {
			continue
		}
		if it = scrub(it); it == errorsWithheld {
			// Without the secret values no item can be kept: say so once.
			summary, items = errorsWithheld, items[:0]
			break
		}
		if it != "" {
			items = append(items, it)
		}
	}
	data, err := json.Marshal(items)
	if err != nil {
		return err
	}
	if err := logSummaryScript.Run(ctx, s.rdb, []string{s.keys.Job(id)}, withTerminal(summary, string(data))...).Err(); err != nil {
		return fmt.Errorf("keep the failure summary of job %d: %w", id, err)
	}
	return nil
}
