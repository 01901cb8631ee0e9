package deliver

import (
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

func TestStreakOf(t *testing.T) {
	at := time.Date(2026, 11, 30, 2, 14, 0, 0, time.UTC)
	e := func(id int64, st xplenty.Status) store.HistoryEntry {
		return store.HistoryEntry{JobID: id, Status: st, Finished: at.Add(time.Duration(id) * time.Minute)}
	}
	for _, tc := range []struct {
		name string
		h    []store.HistoryEntry
		want render.Streak
	}{
		{"no history", nil, render.Streak{}},
		{"not in it", []store.HistoryEntry{e(5, xplenty.StatusFailed)}, render.Streak{}},
		{"first failure after a success", []store.HistoryEntry{e(10, xplenty.StatusFailed), e(9, xplenty.StatusCompleted)},
			render.Streak{Failures: 1, LastSuccess: 9, LastSuccessAt: at.Add(9 * time.Minute)}},
		{"second, a stop between", []store.HistoryEntry{e(10, xplenty.StatusFailed), e(8, xplenty.StatusStopped), e(7, xplenty.StatusFailed), e(6, xplenty.StatusCompleted)},
			render.Streak{Failures: 2, LastSuccess: 6, LastSuccessAt: at.Add(6 * time.Minute)}},
		{"a later job ended first", []store.HistoryEntry{e(11, xplenty.StatusCompleted), e(10, xplenty.StatusFailed), e(9, xplenty.StatusFailed)},
			render.Streak{Failures: 2}},
		{"failures only", []store.HistoryEntry{e(10, xplenty.StatusFailed), e(9, xplenty.StatusFailed), e(8, xplenty.StatusFailed)},
			render.Streak{Failures: 3}},
	} {
		if got := streakOf(10, tc.h); got != tc.want {
			t.Errorf("%s: streakOf = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
