package xplentytest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// Lifecycle makes jobs move on their own, on the server's clock. Each
// duration is measured from the previous change; zero means at once (on
// the next read).
//
//	idle --Pending--> pending --Running--> running --RunTime--> completed
//	                                               --RunTime/2--> failed (a FailureRate share)
//	stop: pending_stoppage --StopDelay/2--> stopping --StopDelay/2--> stopped
//
// While running, progress rises in steps of 0.1, each step bumping
// updated_at, so a list with since= reports it. Completed jobs get outputs
// with names and record counts; failed ones an error text such as
// "Failed to read from source 'orders': Access denied for user
// 'etl'@'10.0.3.17' (using password: YES)".
type Lifecycle struct {
	Pending time.Duration // time spent idle, before the job turns pending
	Running time.Duration // time spent pending, before the job turns running
	RunTime time.Duration // time spent running, before the job completes
	// StopDelay is the time from a stop request to stopped.
	StopDelay time.Duration
	// FailureRate is the share of jobs that fail, from 0 to 1.
	FailureRate float64
	// Seed picks which jobs fail and their record counts: the same seed
	// and job id always give the same outcome.
	Seed int64
}

// fails decides, from the seed and the id alone, whether a job fails.
func (lc *Lifecycle) fails(id int64) bool {
	return lc.FailureRate > 0 && unit(mix(lc.Seed, id, 1)) < lc.FailureRate
}

// mix is splitmix64 over the seed, the job id and a purpose, so that each
// decision about a job is independent and reproducible.
func mix(seed, id int64, purpose uint64) uint64 {
	z := uint64(seed) ^ uint64(id)*0x9e3779b97f4a7c15 ^ purpose*0xbf58476d1ce4e5b9
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }

// failureTexts are error texts in the style Xplenty reports.
var failureTexts = [...]string{
	"Failed to read from source 'orders': Access denied for user 'etl'@'10.0.3.17' (using password: YES)",
	"Failed to write to destination 'warehouse': relation \"public.daily_totals\" does not exist",
	"Component 'aggregate_by_day' failed: java.lang.OutOfMemoryError: GC overhead limit exceeded",
	"Failed to read from source 'events': s3://acme-raw/events/2026/11/: Access Denied (Service: Amazon S3; Status Code: 403)",
}

// failureSummaries are the log summaries Xplenty writes for failureTexts,
// in the same order: what a job failed in lifecycle mode answers to
// include=log_summary.
var failureSummaries = [len(failureTexts)]struct {
	summary string
	actions []string
}{
	{"The database refused the user etl of the 'orders' connection.", []string{"Check the user and password of the 'orders' connection.", "Retry the job."}},
	{"The destination table public.daily_totals does not exist.", []string{"Create the table, or fix the table name in the 'warehouse' destination.", "Retry the job."}},
	{"The cluster ran out of memory in the component 'aggregate_by_day'.", []string{"Run the job on a cluster with more nodes.", "Or process fewer days per run."}},
	{"Amazon S3 denied access to s3://acme-raw/events/.", []string{"Check the bucket policy for the 'events' connection's access key."}},
}

// outputTemplates are the outputs a completed job reports in lifecycle mode.
var outputTemplates = [...]struct {
	name, component, kind string
	fields                []string
}{
	{"orders_clean", "destination1", "database_destination", []string{"order_id", "customer_id", "amount", "created_at"}},
	{"daily_totals", "destination2", "cloud_storage_destination", []string{"day", "orders", "revenue"}},
}

// job is the server's record of a job: its current state plus what drives
// the lifecycle.
type job struct {
	xplenty.Job
	auto    bool                // the lifecycle moves it; any test control clears it
	fails   bool                // the lifecycle ends it in failed
	stopAt  time.Time           // when a stop was requested, in lifecycle mode
	log     *string             // the log body set by SetLog; nil: written from the history
	summary *xplenty.LogSummary // set by SetLogSummary; nil: none
	// notify, when set, is told of every change of status (web hooks);
	// it is called with the server's lock held.
	notify func(j *job, st xplenty.Status, at time.Time)
}

// touch stamps a change.
func (j *job) touch(at time.Time) { j.UpdatedAt = timePtr(at) }

// enter puts the job in status st as of at, with the timestamps that go
// with it.
func (j *job) enter(st xplenty.Status, at time.Time) {
	if j.notify != nil && j.Status != st {
		defer j.notify(j, st, at)
	}
	j.Status = st
	j.touch(at)
	switch st {
	case xplenty.StatusRunning:
		if j.StartedAt == nil {
			j.StartedAt = timePtr(at)
		}
	case xplenty.StatusCompleted:
		if j.StartedAt == nil {
			j.StartedAt = timePtr(at)
		}
		j.Progress = 1
		j.CompletedAt = timePtr(at)
	case xplenty.StatusFailed:
		j.FailedAt = timePtr(at)
		j.CompletedAt = timePtr(at)
	case xplenty.StatusStopped:
		j.CompletedAt = timePtr(at)
	}
}

// advance applies, stamped with the moment each was due, the lifecycle
// changes due by now.
func (s *Server) advance(j *job, now time.Time) {
	lc := s.lc
	if lc == nil || !j.auto || j.Status.Terminal() {
		return
	}
	if !j.stopAt.IsZero() {
		stoppingAt, stoppedAt := j.stopAt.Add(lc.StopDelay/2), j.stopAt.Add(lc.StopDelay)
		switch {
		case !now.Before(stoppedAt):
			j.enter(xplenty.StatusStopped, stoppedAt)
		case !now.Before(stoppingAt) && j.Status != xplenty.StatusStopping:
			j.enter(xplenty.StatusStopping, stoppingAt)
		}
		return
	}
	pendingAt := j.CreatedAt.Add(lc.Pending)
	runningAt := pendingAt.Add(lc.Running)
	endAt := runningAt.Add(lc.RunTime)
	if j.fails {
		endAt = runningAt.Add(lc.RunTime / 2)
	}
	switch {
	case !now.Before(endAt):
		if j.StartedAt == nil {
			j.StartedAt = timePtr(runningAt)
		}
		if j.fails {
			s.stepProgress(j, runningAt, endAt)
			k := mix(lc.Seed, j.ID, 2) % uint64(len(failureTexts))
			j.Errors = failureTexts[k]
			j.summary = &xplenty.LogSummary{ID: firstSummaryID + j.ID, ErrorSummary: failureSummaries[k].summary,
				ActionItems: slices.Clone(failureSummaries[k].actions), CreatedAt: timePtr(endAt)}
			j.enter(xplenty.StatusFailed, endAt)
			return
		}
		j.Outputs = s.makeOutputs(j, endAt)
		j.OutputsCount = len(j.Outputs)
		j.enter(xplenty.StatusCompleted, endAt)
	case !now.Before(runningAt):
		if j.Status != xplenty.StatusRunning {
			j.enter(xplenty.StatusRunning, runningAt)
		}
		s.stepProgress(j, runningAt, now)
	case !now.Before(pendingAt):
		if j.Status != xplenty.StatusPending {
			j.enter(xplenty.StatusPending, pendingAt)
		}
	}
}

// stepProgress sets the progress of a job running since runningAt to the
// last tenth of RunTime reached by now, stamped when it was reached.
func (s *Server) stepProgress(j *job, runningAt, now time.Time) {
	if s.lc.RunTime <= 0 {
		return
	}
	step := min(int64(now.Sub(runningAt)*10/s.lc.RunTime), 9)
	if p := float64(step) / 10; p > j.Progress {
		j.Progress = p
		j.touch(runningAt.Add(s.lc.RunTime * time.Duration(step) / 10))
	}
}

func (s *Server) makeOutputs(j *job, at time.Time) []xplenty.Output {
	outs := make([]xplenty.Output, len(outputTemplates))
	for i, t := range outputTemplates {
		id := s.nextOutputID
		s.nextOutputID++
		outs[i] = xplenty.Output{
			ID:            id,
			Name:          t.name,
			RecordsCount:  int64(mix(s.lc.Seed, j.ID, uint64(10+i)) % 5_000_000),
			CreatedAt:     timePtr(at),
			UpdatedAt:     timePtr(at),
			URL:           fmt.Sprintf("%s/outputs/%d", j.URL, id),
			PreviewURL:    fmt.Sprintf("%s/outputs/%d/preview", j.URL, id),
			PreviewType:   "json",
			ComponentName: t.component,
			ComponentType: t.kind,
		}
	}
	return outs
}

// wireJob is a job as the v2 API writes it: every timestamp present (null
// when unset), outputs with a component object, and, in list answers, the
// embedded cluster and package.
type wireJob struct {
	ID               int64             `json:"id"`
	Status           xplenty.Status    `json:"status"`
	Variables        map[string]string `json:"variables"`
	DynamicVariables map[string]string `json:"dynamic_variables,omitempty"`
	OwnerID          int64             `json:"owner_id"`
	Progress         float64           `json:"progress"`
	OutputsCount     int               `json:"outputs_count"`
	Outputs          []wireOutput      `json:"outputs"`
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
	Creator          *xplenty.Creator  `json:"creator"`
	Attempts         int               `json:"attempts"`
	Cluster          *wireRef          `json:"cluster,omitempty"`
	Package          *wireRef          `json:"package,omitempty"`
}

type wireOutput struct {
	ID           int64          `json:"id"`
	Name         string         `json:"name"`
	RecordsCount int64          `json:"records_count"`
	CreatedAt    *time.Time     `json:"created_at"`
	UpdatedAt    *time.Time     `json:"updated_at"`
	URL          string         `json:"url"`
	PreviewURL   string         `json:"preview_url,omitempty"`
	PreviewType  string         `json:"preview_type,omitempty"`
	Component    *wireComponent `json:"component,omitempty"`
}

type wireComponent struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Fields []string `json:"fields"`
}

type wireRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// wire renders the job for an answer. The answer is encoded after the
// server's lock is released, so it shares nothing that changes: variables
// are never modified after a run, everything else is copied.
func (j *job) wire(now time.Time, embed bool) wireJob {
	w := wireJob{
		ID:               j.ID,
		Status:           j.Status,
		Variables:        j.Variables,
		DynamicVariables: j.DynamicVariables,
		OwnerID:          j.OwnerID,
		Progress:         j.Progress,
		OutputsCount:     j.OutputsCount,
		Outputs:          make([]wireOutput, len(j.Outputs)),
		StartedAt:        wireTime(j.StartedAt),
		CreatedAt:        wireTime(j.CreatedAt),
		FailedAt:         wireTime(j.FailedAt),
		UpdatedAt:        wireTime(j.UpdatedAt),
		CompletedAt:      wireTime(j.CompletedAt),
		ClusterID:        j.ClusterID,
		PackageID:        j.PackageID,
		Errors:           j.Errors,
		URL:              j.URL,
		HTMLURL:          j.HTMLURL,
		LogURL:           j.LogURL,
		RuntimeInSeconds: j.runtime(now),
		Creator:          j.Creator,
		Attempts:         j.Attempts,
	}
	if w.Variables == nil {
		w.Variables = map[string]string{}
	}
	for i, o := range j.Outputs {
		w.Outputs[i] = wireOutput{
			ID:           o.ID,
			Name:         o.Name,
			RecordsCount: o.RecordsCount,
			CreatedAt:    wireTime(o.CreatedAt),
			UpdatedAt:    wireTime(o.UpdatedAt),
			URL:          o.URL,
			PreviewURL:   o.PreviewURL,
			PreviewType:  o.PreviewType,
		}
		if o.ComponentName != "" || o.ComponentType != "" {
			w.Outputs[i].Component = &wireComponent{Name: o.ComponentName, Type: o.ComponentType, Fields: fieldsOf(o.Name)}
		}
	}
	if embed {
		w.Cluster = &wireRef{ID: j.ClusterID, Name: fmt.Sprintf("cluster-%d", j.ClusterID)}
		w.Package = &wireRef{ID: j.PackageID, Name: fmt.Sprintf("package-%d", j.PackageID)}
	}
	return w
}

func fieldsOf(outputName string) []string {
	for _, t := range outputTemplates {
		if t.name == outputName {
			return t.fields
		}
	}
	return []string{}
}

// runtime is the whole seconds the job has run: to its end, or to now,
// between the whole-second times the API shows.
func (j *job) runtime(now time.Time) int64 {
	if j.StartedAt == nil {
		return 0
	}
	end := now
	switch {
	case j.CompletedAt != nil:
		end = *j.CompletedAt
	case j.Status.Terminal():
		end = *j.UpdatedAt
	}
	return max(int64(seconds(end).Sub(seconds(*j.StartedAt))/time.Second), 0)
}

// snapshot is a deep copy of the job as the API would show it now, its
// times in whole seconds.
func (j *job) snapshot(now time.Time) xplenty.Job {
	c := j.Job
	c.Variables = cloneMap(j.Variables)
	c.DynamicVariables = cloneMap(j.DynamicVariables)
	c.StartedAt = secondsPtr(j.StartedAt)
	c.CreatedAt = secondsPtr(j.CreatedAt)
	c.FailedAt = secondsPtr(j.FailedAt)
	c.UpdatedAt = secondsPtr(j.UpdatedAt)
	c.CompletedAt = secondsPtr(j.CompletedAt)
	c.RuntimeInSeconds = j.runtime(now)
	if j.Outputs != nil {
		c.Outputs = make([]xplenty.Output, len(j.Outputs))
		for i, o := range j.Outputs {
			o.CreatedAt = secondsPtr(o.CreatedAt)
			o.UpdatedAt = secondsPtr(o.UpdatedAt)
			c.Outputs[i] = o
		}
	}
	if j.Creator != nil {
		cr := *j.Creator
		c.Creator = &cr
	}
	return c
}

// logText is a plausible log for the job's history so far.
func (j *job) logText(now time.Time) string {
	var b strings.Builder
	logAt := func(t *time.Time, level, format string, args ...any) {
		if t != nil {
			fmt.Fprintf(&b, "%s %s %s\n", t.UTC().Format(time.RFC3339), level, fmt.Sprintf(format, args...))
		}
	}
	line := func(t *time.Time, format string, args ...any) { logAt(t, "INFO", format, args...) }
	line(j.CreatedAt, "Job %d submitted: package %d on cluster %d", j.ID, j.PackageID, j.ClusterID)
	line(j.StartedAt, "Job %d started", j.ID)
	switch j.Status {
	case xplenty.StatusCompleted:
		for _, o := range j.Outputs {
			line(o.UpdatedAt, "Output %q: %d records written", o.Name, o.RecordsCount)
		}
		line(j.CompletedAt, "Job %d completed", j.ID)
	case xplenty.StatusFailed:
		logAt(j.FailedAt, "ERROR", "%s", j.Errors)
	case xplenty.StatusStopped:
		line(j.CompletedAt, "Job %d stopped by user", j.ID)
	default:
		line(&now, "Job %d is %s (%.0f%%)", j.ID, j.Status, j.Progress*100)
	}
	return b.String()
}

func timePtr(t time.Time) *time.Time { return &t }

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// The real API stores and writes times to the second ("2026-11-01T09:00:00Z"):
// what the server shows (answers, Job, Jobs) and what since= and
// sort=updated compare are whole seconds. It keeps the clock's precision
// inside, so the lifecycle's changes fall when they are due.

// seconds is t as the API has it: truncated to the second.
func seconds(t time.Time) time.Time { return t.Truncate(time.Second) }

// secondsPtr is a copy of *t truncated to the second; nil stays nil.
func secondsPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := seconds(*t)
	return &c
}

// wireTime is *t as an answer writes it: UTC, whole seconds.
func wireTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := seconds(t.UTC())
	return &u
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}

func cloneOutput(o xplenty.Output) xplenty.Output {
	o.CreatedAt = copyTime(o.CreatedAt)
	o.UpdatedAt = copyTime(o.UpdatedAt)
	return o
}
