package notifier

// The walk of Xplenty's change list, page by page, and the cursor in Redis
// where the next walk begins.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

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
