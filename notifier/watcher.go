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

// markAhead is how far past the store's clock a mark may lie before it
// is taken for broken: a mark in the future would hide every change until
// then.
const markAhead = time.Hour

// cursor reads where the walk begins. A mark that cannot be read (written
// by hand, damaged) or lies far in the future would stop the watcher for
// good, since nothing else moves it back: it is set back to before the
// oldest followed job, and the walk reads from there.
func (w *Watcher) cursor(ctx context.Context) (store.Cursor, error) {
	cur, _, err := w.store.Cursor(ctx)
	bad := errors.Is(err, store.ErrBadMark)
	if !bad && (err != nil || !cur.Since.After(w.store.Now().Add(markAhead))) {
		return cur, err
	}
	mark, rerr := w.store.RepairSince(ctx)
	if rerr != nil {
		return store.Cursor{}, rerr
	}
	w.log.Warn("watermark unreadable or in the future; set back to a minute before the oldest followed job", "was", cur.Since, "unreadable", bad, "now", mark)
	return store.Cursor{Since: mark}, nil
}

func (w *Watcher) pollChanges(ctx context.Context, cur store.Cursor, st *TickStats) error {
	// Each page is asked for by where the one before ended (the second of
	// its last change, less the jobs of that second already read), not by
	// the next link's offset from the walk's start: a job that changes
	// during the walk moves to the end of the list, and with offsets from
	// the start every job after it would move up one place, the first of
	// the next page onto the page already read, never to be listed.
	pos := cur
	var err error
	for st.Pages < w.opts.MaxPages {
		var page *xplenty.JobPage
		page, err = w.src.ListJobs(ctx, xplenty.ListOptions{
			Status: "all", Sort: "updated", Direction: "asc", Since: pos.Since, Offset: pos.Offset, Limit: xplenty.MaxListLimit,
		})
		st.Calls++
		if err != nil {
			break
		}
		st.Pages++
		for _, u := range page.Undecodable {
			// Most likely another tool's job; if it is ours, the stale
			// refresh reads it on its own (and gives up on it in the end).
			st.Undecodable++
			w.log.Warn("job in the change list does not decode; skipped", "job_id", u.ID, "index", u.Index, "err", u.Err)
		}
		for _, j := range page.Jobs {
			if err := w.apply(ctx, j, st); err != nil {
				return err
			}
		}
		if page.NextURL == "" {
			// The list's end: everything up to the server's "now" was
			// seen, so the mark follows the server's clock (less the
			// overlap, for changes stamped just before it), not the newest
			// change, or a burst of changes in one second would be listed
			// again every tick.
			mark := cur.Since
			if !page.ServerTime.IsZero() {
				mark = page.ServerTime.Add(-w.opts.Overlap)
			} else if newest, ok := lastChange(page); ok {
				mark = newest.Add(-w.opts.Overlap)
			}
			if mark.After(cur.Since) {
				return w.store.SetCursor(ctx, store.Cursor{Since: mark})
			}
			return nil
		}
		pos = after(pos, page)
	}
	// The walk stopped early (its page limit, or a failed page): the next
	// one goes on from where this one got to, so a long backlog is worked
	// off over ticks and a failure does not repeat the pages that were read.
	if pos != cur {
		if err == nil {
			w.log.Info("more changes than a walk reads; the next walk goes on from there", "since", pos.Since, "offset", pos.Offset)
		}
		if serr := w.store.SetCursor(ctx, pos); serr != nil {
			return serr
		}
	}
	if err != nil {
		return fmt.Errorf("list changed jobs: %w", err)
	}
	return nil
}

// rereadMargin is how many jobs of the second a page ended in the next
// page reads again: if one of those already read changes before the next
// page is asked for, it moves to the list's end and the rest of its
// second move up one place; the margin keeps up to that many such moves
// from hiding a job (beyond it, the stale refresh still reads the job).
const rereadMargin = 2

// after is where the page after page begins, page having been asked for
// at pos: the second of the page's last change, less the entries of that
// second the page held (and those pos already skipped, when it is pos's
// second), less rereadMargin of them, and always past pos. A page without
// a job that says when it changed (all undecodable) moves on by its
// length.
func after(pos store.Cursor, page *xplenty.JobPage) store.Cursor {
	n := len(page.Jobs) + len(page.Undecodable)
	last, ok := lastChange(page)
	if !ok {
		return store.Cursor{Since: pos.Since, Offset: pos.Offset + n}
	}
	sec := last.Truncate(time.Second)
	// The entries of that second end the page (the list is in order of
	// change); those that did not decode among or after them count too,
	// as places in the list.
	undecodable := make(map[int]bool, len(page.Undecodable))
	for _, u := range page.Undecodable {
		undecodable[u.Index] = true
	}
	k, j := 0, len(page.Jobs)-1
	for i := n - 1; i >= 0; i-- {
		if undecodable[i] {
			k++
			continue
		}
		if u := page.Jobs[j].UpdatedAt; u != nil && u.Before(sec) {
			break
		}
		k++
		j--
	}
	if sec.Equal(pos.Since) {
		k += pos.Offset
		return store.Cursor{Since: sec, Offset: max(k-rereadMargin, pos.Offset+1)}
	}
	return store.Cursor{Since: sec, Offset: max(k-rereadMargin, 0)}
}

// lastChange is when the page's last job that says so changed.
func lastChange(page *xplenty.JobPage) (time.Time, bool) {
	for i := len(page.Jobs) - 1; i >= 0; i-- {
		if u := page.Jobs[i].UpdatedAt; u != nil {
			return *u, true
		}
	}
	return time.Time{}, false
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
