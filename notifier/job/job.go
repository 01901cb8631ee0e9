// Package job is what the bot knows about one job it follows: the Record
// the store keeps and the renderer shows, and the statuses the bot gives a
// job it stopped following.
package job

import (
	"time"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/xplenty"
)

// The bot's own reply statuses, beside Xplenty's: a job it gave up on.
const (
	// StatusLost is the reply status of a job Xplenty no longer knows.
	StatusLost xplenty.Status = "lost"
	// StatusUnreadable is the reply status of a job given up because it
	// could not be read.
	StatusUnreadable xplenty.Status = "unreadable"
)

// The watchdog's note statuses: a job past one of its thresholds. Each is
// posted once per job, like a reply.
const (
	// StatusSlow: running longer than its max runtime (the preset's, else
	// a multiple of its usual runtime).
	StatusSlow xplenty.Status = "slow"
	// StatusQueuedLong: queued, waiting for cluster resources, too long.
	StatusQueuedLong xplenty.Status = "queued_long"
	// StatusStoppingLong: in pending_stoppage too long.
	StatusStoppingLong xplenty.Status = "stopping_long"
)

// Record is what Redis remembers about one tracked job: enough to follow
// it, to re-render its card from scratch, and to re-run it.
type Record struct {
	JobID     int64
	Channel   string // Slack channel id the card lives in
	CardTS    string // ts of the job card; thread replies use it as thread_ts
	Requester string // Slack user id of whoever started the job

	// Run is what was run: the cluster and package, the preset, the
	// variables and dynamic variables as sent to Xplenty, the secret names
	// (their values are never shown and, with store.Options.SecretKey,
	// encrypted in Redis), and the job it re-runs.
	commands.Run
	// LostSecrets names secret variables whose stored values could not be
	// decrypted (the key changed): they are missing from the maps, so the
	// job cannot be re-run as it was.
	LostSecrets []string

	StoppedBy string
	// StopRequestedBy is set when someone pressed Stop; StoppedBy is filled
	// from it when Xplenty reports the job stopped.
	StopRequestedBy string

	Status   xplenty.Status
	Progress float64 // 0.0–1.0
	Errors   string  // Xplenty's errors text for failed jobs
	// ErrorSummary and ActionItems are Xplenty's summary of why a job
	// failed and what to do about it (its log summary), scrubbed of the
	// job's secret values; empty when Xplenty gave none.
	ErrorSummary string
	ActionItems  []string
	HTMLURL      string // the job's page for people
	Runtime      time.Duration
	Outputs      []xplenty.Output

	CreatedAt time.Time // when the bot started the job
	UpdatedAt time.Time // when the bot last saw a change
	// FinishedAt is when the bot saw the terminal status (zero until then).
	FinishedAt time.Time
	// StatusSince is when the bot saw the job enter its current status
	// (zero for records from before it was kept).
	StatusSince time.Time
	// Rev counts the changes to what the card shows; deliveries use it to
	// keep edits in order and to skip edits the card already has.
	Rev int64
}

// Terminal reports whether the job has ended.
func (r Record) Terminal() bool { return r.Status.Terminal() }
