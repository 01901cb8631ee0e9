package render

import (
	"time"

	"github.com/runjob/runjob/notifier/job"
)

// CardContext is what a card shows beside its record, read by the
// deliverer: the zero value shows the record alone.
type CardContext struct {
	// Usual is the median runtime of the completed runs of the job's
	// package on its cluster; 0 when there are none.
	Usual time.Duration
	// Now is when the card is rendered, for the time left.
	Now time.Time
}

// estimate says how long runs usually take and, from the progress and the
// time running so far, about how long is left: "usually ~14 min · about 5
// min left". It is "" without history, and says nothing of the time left
// when the progress gives no rate (0, or done). The card is edited when the
// progress crosses a tenth, so the time left is as of that edit.
func (c CardContext) estimate(r job.Record) string {
	if c.Usual <= 0 {
		return ""
	}
	out := "usually ~" + roughDuration(c.Usual)
	if c.Now.IsZero() || r.StatusSince.IsZero() || r.Progress <= 0 || r.Progress >= 1 {
		return out
	}
	elapsed := c.Now.Sub(r.StatusSince)
	if elapsed <= 0 {
		return out
	}
	left := time.Duration(float64(elapsed)/r.Progress) - elapsed
	if left < time.Minute {
		return out + " · under a minute left"
	}
	return out + " · about " + roughDuration(left) + " left"
}
