package xplenty

import (
	"slices"
	"time"
)

// Status is the state of an Xplenty job. Unknown statuses are kept as they
// came, treated as not terminal and shown as they are.
type Status string

// The job statuses Xplenty documents. A job goes from idle or pending
// through queued and running to one of the terminal statuses; a stop request
// passes through pending_stoppage and stopping.
const (
	StatusIdle            Status = "idle"
	StatusPending         Status = "pending"
	StatusQueued          Status = "queued"
	StatusRunning         Status = "running"
	StatusPendingStoppage Status = "pending_stoppage"
	StatusStopping        Status = "stopping"
	StatusCompleted       Status = "completed"
	StatusFailed          Status = "failed"
	StatusStopped         Status = "stopped"
)

// terminalStatuses are the statuses a job never leaves.
var terminalStatuses = [...]Status{StatusCompleted, StatusFailed, StatusStopped}

// TerminalStatuses returns the statuses a job never leaves (those for which
// Terminal holds), in a new slice each time, e.g. to hand them to a script
// that must agree with Terminal.
func TerminalStatuses() []Status { return slices.Clone(terminalStatuses[:]) }

// Terminal reports whether a job in this status will not change any more.
func (s Status) Terminal() bool { return slices.Contains(terminalStatuses[:], s) }

// Known reports whether s is one of the documented statuses.
func (s Status) Known() bool {
	switch s {
	case StatusIdle, StatusPending, StatusQueued, StatusRunning, StatusPendingStoppage,
		StatusStopping, StatusCompleted, StatusFailed, StatusStopped:
		return true
	}
	return false
}

// Job is an Xplenty job: one run of a package on a cluster.
//
// Timestamps are nil when the API sends null or leaves them out. Variables
// hold every value as text, whatever JSON type the API used.
type Job struct {
	ID               int64             `json:"id"`
	Status           Status            `json:"status"`
	Variables        map[string]string `json:"variables,omitempty"`
	DynamicVariables map[string]string `json:"dynamic_variables,omitempty"`
	OwnerID          int64             `json:"owner_id"`
	Progress         float64           `json:"progress"`
	OutputsCount     int               `json:"outputs_count"`
	Outputs          []Output          `json:"outputs,omitempty"`
	StartedAt        *time.Time        `json:"started_at"`
	CreatedAt        *time.Time        `json:"created_at"`
	FailedAt         *time.Time        `json:"failed_at"`
	UpdatedAt        *time.Time        `json:"updated_at"`
	CompletedAt      *time.Time        `json:"completed_at"`
	ClusterID        int64             `json:"cluster_id"`
	PackageID        int64             `json:"package_id"`
	Errors           string            `json:"errors"`
	URL              string            `json:"url"`
	HTMLURL          string            `json:"html_url"`
	LogURL           string            `json:"log_url"`
	RuntimeInSeconds int64             `json:"runtime_in_seconds"`
	Creator          *Creator          `json:"creator,omitempty"`
	Attempts         int               `json:"attempts"`
	// LogSummary is the diagnosis of a failure, sent only when asked for
	// (GetJobWithLogSummary); nil when the answer has none.
	LogSummary *LogSummary `json:"log_summary,omitempty"`
}

// Output is one output target of a job's package.
type Output struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	RecordsCount int64      `json:"records_count"`
	CreatedAt    *time.Time `json:"created_at"`
	UpdatedAt    *time.Time `json:"updated_at"`
	URL          string     `json:"url"`
	PreviewURL   string     `json:"preview_url,omitempty"`
	PreviewType  string     `json:"preview_type,omitempty"`
	// ComponentName is the name of the package component that wrote the
	// output: from component.name (v2) or component_name (older answers).
	ComponentName string `json:"component_name,omitempty"`
	// ComponentType is component.type when the API sends it.
	ComponentType string `json:"component_type,omitempty"`
}

// Creator says who or what created a job.
type Creator struct {
	Type        string `json:"type"`
	ID          int64  `json:"id"`
	DisplayName string `json:"display_name"`
	URL         string `json:"url"`
	HTMLURL     string `json:"html_url"`
}

// RunRequest asks Xplenty to run a package on a cluster.
type RunRequest struct {
	ClusterID int64
	PackageID int64
	// Variables are sent as job[variables][NAME]=value.
	Variables map[string]string
	// DynamicVariables are expressions, sent as job[dynamic_variables][NAME]=expr.
	DynamicVariables map[string]string
}

// ListOptions filter and order a list of jobs. Zero values are left out of
// the request, so the server's defaults apply.
type ListOptions struct {
	Status    Status    // a job status, or "all"
	Sort      string    // "created" (server default) or "updated"
	Direction string    // "desc" (server default) or "asc"
	Since     time.Time // only jobs updated at or after it
	PackageID int64
	Offset    int
	Limit     int // at most MaxListLimit
}

// MaxListLimit is the largest page the list endpoint serves; it serves 20
// jobs when the request gives no limit.
const MaxListLimit = 100

// JobPage is one page of a job list. NextURL is the rel="next" target of
// the response's Link header, empty on the last page.
type JobPage struct {
	Jobs    []Job
	NextURL string
	// ServerTime is the answer's Date header (whole seconds), zero when it
	// had none: what "now" was for the server when it listed the jobs.
	ServerTime time.Time
	// Undecodable lists the jobs of the page that could not be decoded;
	// they are left out of Jobs.
	Undecodable []UndecodableJob
}

// UndecodableJob is a job of a list page that could not be decoded
// (another tool's job with a number out of range, a field of the wrong
// type, no id).
type UndecodableJob struct {
	Index int   // its position in the page, from 0
	ID    int64 // its id when that could be read, else 0
	// Err says what was wrong. It never holds the job's JSON (variables
	// may hold secrets): at most a field's short number text.
	Err error
}
