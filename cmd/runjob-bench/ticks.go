package main

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/runjob/runjob/xplenty/xplentytest"
)

// tick is one poll of the watcher, told from the requests the fake
// Xplenty received: it begins with a walk of the change list and runs
// until the next one.
type tick struct {
	at      time.Time
	prev    time.Time // when the tick before it began
	since   time.Time
	calls   int // requests to the jobs endpoints in the tick: list pages and fetches by id
	other   int // requests to other endpoints (the catalog's packages and clusters)
	changed int // jobs that changed since the tick before it began
}

func (t tick) bound() int { return 2 + int(math.Ceil(float64(t.changed)/100)) }

// ticksOf cuts reqs into ticks whose first page is in [from, to). A tick
// begins with a list request that comes more than gap after the last
// request to the jobs endpoints (a walk follows its pages at once; a walk
// may begin at an offset, where the one before stopped).
func ticksOf(reqs []xplentytest.Request, from, to time.Time, gap time.Duration) []tick {
	var ticks []tick
	var cur *tick
	var last time.Time
	for _, r := range reqs {
		kind := classify(r)
		begins := kind == "list" && r.At.Sub(last) > gap
		if kind != "other" {
			last = r.At
		}
		if begins {
			next := &tick{at: r.At}
			if cur != nil {
				ticks = append(ticks, *cur)
				next.prev = cur.at
			}
			cur = next
			if s, err := time.Parse(time.RFC3339, r.Query.Get("since")); err == nil {
				cur.since = s
			}
		}
		if cur == nil {
			continue
		}
		switch kind {
		case "list", "job":
			cur.calls++
		default:
			cur.other++
		}
	}
	// The last tick is left out: its end is not known.
	return slices.DeleteFunc(ticks, func(t tick) bool { return t.at.Before(from) || !t.at.Before(to) })
}

func classify(r xplentytest.Request) string {
	p := strings.TrimSuffix(r.Path, "/")
	switch {
	case r.Method == "GET" && strings.HasSuffix(p, "/jobs"):
		return "list"
	case strings.Contains(p, "/jobs/"):
		return "job"
	}
	return "other"
}

// countChanged fills each tick's changed from the times the bench changed
// jobs in the fake Xplenty.
func countChanged(ticks []tick, changedAt []time.Time) {
	for i := range ticks {
		n := 0
		for _, at := range changedAt {
			if at.After(ticks[i].prev) && !at.After(ticks[i].at) {
				n++
			}
		}
		ticks[i].changed = n
	}
}

type tickSummary struct {
	n, over                  int // ticks, and ticks over their bound
	meanCalls                float64
	maxCalls, maxChanged     int
	maxBound                 int
	meanChanged, otherPerMin float64
}

func summarize(ticks []tick, window time.Duration) tickSummary {
	s := tickSummary{n: len(ticks)}
	if len(ticks) == 0 {
		return s
	}
	other := 0
	for _, t := range ticks {
		s.meanCalls += float64(t.calls)
		s.meanChanged += float64(t.changed)
		s.maxCalls = max(s.maxCalls, t.calls)
		s.maxChanged = max(s.maxChanged, t.changed)
		s.maxBound = max(s.maxBound, t.bound())
		if t.calls > t.bound() {
			s.over++
		}
		other += t.other
	}
	s.meanCalls /= float64(len(ticks))
	s.meanChanged /= float64(len(ticks))
	s.otherPerMin = float64(other) / window.Minutes()
	return s
}
