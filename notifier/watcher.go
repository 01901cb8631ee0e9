package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// JobSource is the part of the Xplenty API the watcher polls.
// *xplenty.Client implements it.
type JobSource interface {
	ListJobs(ctx context.Context, opts xplenty.ListOptions) (*xplenty.JobPage, error)
	GetJob(ctx context.Context, id int64) (*xplenty.Job, error)
	// GetJobWithLogSummary is GetJob with Xplenty's summary of why a job
	// failed: asked once, when a followed job is seen failed.
	GetJobWithLogSummary(ctx context.Context, id int64) (*xplenty.Job, error)
	RateLimit() xplenty.RateLimit
}

var _ JobSource = (*xplenty.Client)(nil)

// WatcherOptions configure a Watcher.
type WatcherOptions struct {
	Logger *slog.Logger
	// Interval between polls while the budget is healthy. Default 10 s.
	Interval time.Duration
	// StaleAfter is how long a job may go unseen in the change list before
	// it is fetched on its own (one such GET per tick at most). Default 10 min.
	StaleAfter time.Duration
	// MaxPages bounds the list pages read per tick. Default 20: about
	// 2,000 changes, since each page reads 2 of the page before again.
	MaxPages int
	// Overlap is kept behind the server's clock (or the newest change seen)
	// when moving the high-water mark, so changes stamped just before the
	// listing are not missed. Default 2 s.
	Overlap time.Duration
	// Holder names this replica for the polling lease. Default: random.
	Holder string
	// OnTick, when set, is told what each tick did (metrics, benchmarks).
	OnTick func(TickStats)
	// OnPanic, when set, is told of each tick that panicked (and was
	// recovered; the watcher carries on).
	OnPanic func()
	// Watchdog sets when a job gets a note in its thread for taking long
	// (see watchdog.go).
	Watchdog WatchdogOptions
	// ListenForWakes makes the watcher hear the wake-ups of store.Wake,
	// published by any replica (Xplenty's web hooks), as well as Wake's
	// (see wake.go).
	ListenForWakes bool
	// WakeGap is the least time between the starts of a poll and of the
	// next one brought forward by a wake-up: a burst of wake-ups costs at
	// most one poll per WakeGap. Default DefaultWakeGap.
	WakeGap time.Duration
}

// TickStats describe one poll.
type TickStats struct {
	Leader   bool // this replica held the lease and polled
	Calls    int  // Xplenty calls made
	Pages    int  // list pages read
	Listed   int  // jobs in the list answers (other tools' too)
	Changes  int  // jobs whose record changed
	Finished int  // jobs that reached a terminal status
	Active   int64
	// ReadFailed counts followed jobs whose own read failed (they back off
	// on their own); GaveUp those given up (not found, or unreadable too
	// often); Undecodable the jobs of the change list skipped because they
	// did not decode.
	ReadFailed  int
	GaveUp      int
	Undecodable int
	// Noted counts the watchdog notes queued (no Xplenty call).
	Noted int

	// noDiagnosis is set once a summary call of this tick timed out or
	// was rate limited: the tick's other failures do without one.
	noDiagnosis bool
}

// Watcher follows every tracked job and turns Xplenty's status changes into
// queued Slack messages. Its cost does not grow with the number of jobs: it
// reads what changed since its high-water mark with one list call (one per
// page of 100 changes), and fetches at most one long-unseen job per tick
// on its own.
// Replicas share the work: only the holder of a lease in Redis polls.
type Watcher struct {
	store *store.Store
	src   JobSource
	opts  WatcherOptions
	log   *slog.Logger
	// lastWatch is when this watcher's last watchdog pass ran.
	lastWatch time.Time
	// wake holds a wake-up until the loop reads it (capacity 1: wake-ups
	// fold together).
	wake chan struct{}
}

// NewWatcher returns a Watcher of the jobs in store, polling src.
func NewWatcher(store *store.Store, src JobSource, opts WatcherOptions) *Watcher {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 10 * time.Minute
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = 20
	}
	if opts.Overlap <= 0 {
		opts.Overlap = 2 * time.Second
	}
	if opts.Holder == "" {
		opts.Holder = "w-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if opts.Watchdog.Every <= 0 {
		opts.Watchdog.Every = min(6*opts.Interval, time.Minute)
	}
	if opts.WakeGap <= 0 {
		opts.WakeGap = DefaultWakeGap
	}
	return &Watcher{store: store, src: src, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1)}
}

// Run polls until ctx ends, then gives the lease up so another replica
// takes over at once. Between polls it waits the interval (longer when the
// budget runs low or polls fail), or less when woken (wake.go).
func (w *Watcher) Run(ctx context.Context) error {
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = w.store.ReleaseLease(rctx, w.opts.Holder)
	}()
	if w.opts.ListenForWakes {
		w.listen(ctx)
	}
	var fails int
	for {
		started := time.Now()
		st, err := w.tickSafely(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if w.opts.OnTick != nil && !errors.Is(err, errPanicked) {
			w.opts.OnTick(st)
		}
		if err != nil {
			fails++
			w.log.Warn("poll failed", "err", err, "consecutive", fails)
		} else {
			fails = 0
		}
		delay := NextDelay(w.opts.Interval, w.src.RateLimit(), fails, xplenty.IsRateLimited(err))
		if st.Leader && delay > w.opts.Interval {
			// Backing off: keep the lease for the whole pause, or another
			// replica, whose client has not seen the 429 or the low budget,
			// would poll at once.
			if _, lerr := w.store.Lease(ctx, w.opts.Holder, delay+w.leaseTTL()); lerr != nil {
				w.log.Warn("extend watch lease", "err", lerr)
			}
		}
		// Only the leader polls, and a wake-up brings a poll forward only
		// at the healthy pace: after a failure or with the budget low, the
		// backoff comes first.
		healthy := fails == 0 && budgetFactor(w.src.RateLimit()) == 1
		if !w.sleep(ctx, delay, started, st.Leader && healthy) {
			return nil
		}
	}
}

// Tick polls once: it takes or renews the lease, reads what changed since
// the high-water mark, applies it, and refreshes one stale job.
func (w *Watcher) Tick(ctx context.Context) (TickStats, error) {
	var st TickStats
	ok, err := w.store.Lease(ctx, w.opts.Holder, w.leaseTTL())
	if err != nil || !ok {
		return st, err
	}
	st.Leader = true
	st.Active, err = w.store.ActiveCount(ctx)
	if err != nil || st.Active == 0 {
		return st, err // nothing to follow: spend no budget
	}
	cur, err := w.cursor(ctx)
	if err != nil {
		return st, err
	}
	err = w.pollChanges(ctx, cur, &st)
	if err == nil {
		err = w.refreshStale(ctx, &st)
	}
	if err == nil {
		err = w.watchdog(ctx, &st)
	}
	return st, err
}

func (w *Watcher) apply(ctx context.Context, j xplenty.Job, st *TickStats) error {
	if j.Status == xplenty.StatusFailed {
		w.diagnose(ctx, j.ID, st)
	}
	ch, err := w.store.Observe(ctx, j)
	if err != nil {
		return err
	}
	switch ch {
	case store.Finished:
		st.Finished++
		st.Changes++
	case store.StatusChanged, store.ProgressMoved:
		st.Changes++
	}
	if ch != store.Unchanged {
		w.log.Info("job changed", "job_id", j.ID, "status", j.Status, "progress", j.Progress)
	}
	st.Listed++
	return nil
}

// diagnoseTimeout bounds the summary call of one failed job: its reply
// waits for it, and so do the others of the tick.
const diagnoseTimeout = 5 * time.Second

// diagnose asks Xplenty, once, why a followed job failed, before its end is
// recorded (which queues the failure reply), so that the reply can show
// the summary and the suggested actions. It costs one call per failed job,
// and nothing else: when the call fails or Xplenty gives no summary, the
// reply goes out as it would have without it.
func (w *Watcher) diagnose(ctx context.Context, id int64, st *TickStats) {
	if st.noDiagnosis {
		return
	}
	if want, err := w.store.WantsDiagnosis(ctx, id); err != nil || !want {
		return
	}
	dctx, cancel := context.WithTimeout(ctx, diagnoseTimeout)
	defer cancel()
	j, err := w.src.GetJobWithLogSummary(dctx, id)
	st.Calls++
	if err != nil {
		w.log.Warn("read the failure summary of a job", "job_id", id, "reason", readFailure(err))
		if xplenty.IsRateLimited(err) || dctx.Err() != nil {
			// Xplenty is slow or out of budget: the other failures of
			// this tick go out without a summary rather than wait.
			st.noDiagnosis = true
		}
		return
	}
	if j.LogSummary == nil || j.LogSummary.IsZero() {
		return
	}
	if err := w.store.SetLogSummary(ctx, id, j.LogSummary.ErrorSummary, j.LogSummary.ActionItems); err != nil {
		w.log.Warn("keep the failure summary of a job", "job_id", id, "err", err)
	}
}

// refreshStale fetches the job that has gone unseen the longest, if it has
// been long enough. Jobs that do not change never appear in the change
// list; this is the safety net for a change the list missed.
func (w *Watcher) refreshStale(ctx context.Context, st *TickStats) error {
	ids, err := w.store.Stale(ctx, w.store.Now().Add(-w.opts.StaleAfter), 1)
	if err != nil || len(ids) == 0 {
		return err
	}
	id := ids[0]
	j, err := w.src.GetJob(ctx, id)
	st.Calls++
	if xplenty.IsNotFound(err) {
		gaveUp, merr := w.store.Missed(ctx, id)
		if merr != nil {
			return merr
		}
		w.log.Warn("tracked job not found in Xplenty", "job_id", id, "given_up", gaveUp)
		if gaveUp {
			st.GaveUp++
		}
		return w.store.Seen(ctx, id)
	}
	if err != nil && jobFault(err) {
		// This job's failure is this job's: it backs off on its own, and
		// the tick succeeds, so the others keep their pace.
		st.ReadFailed++
		n, gaveUp, ferr := w.store.ReadFailed(ctx, id, readFailure(err), w.opts.StaleAfter)
		if ferr != nil {
			return ferr
		}
		if gaveUp {
			st.GaveUp++
		}
		// Xplenty's text is not logged: an answer about a job may echo its
		// variables, and this watcher does not know which are secret.
		w.log.Warn("tracked job could not be read", "job_id", id, "reason", readFailure(err), "failures", n, "given_up", gaveUp)
		return nil
	}
	if err != nil {
		return fmt.Errorf("refresh job %d: %w", id, err)
	}
	if err := w.apply(ctx, *j, st); err != nil {
		return err
	}
	return w.store.Seen(ctx, id)
}

// leaseTTL is how long the polling lease lasts without renewal: a replica
// that dies is replaced within it.
func (w *Watcher) leaseTTL() time.Duration { return max(3*w.opts.Interval, 5*time.Second) }
