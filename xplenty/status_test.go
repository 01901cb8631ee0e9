package xplenty

import (
	"slices"
	"testing"
)

func TestTerminalStatuses(t *testing.T) {
	want := []Status{StatusCompleted, StatusFailed, StatusStopped}
	got := TerminalStatuses()
	if !slices.Equal(got, want) {
		t.Errorf("TerminalStatuses() = %v, want %v", got, want)
	}
	got[0] = StatusRunning // a caller's change must not reach the package
	if !slices.Equal(TerminalStatuses(), want) {
		t.Errorf("TerminalStatuses() after changing a returned slice = %v, want %v", TerminalStatuses(), want)
	}
	for _, s := range []Status{StatusIdle, StatusPending, StatusQueued, StatusRunning, StatusPendingStoppage,
		StatusStopping, StatusCompleted, StatusFailed, StatusStopped, "unknown", ""} {
		if s.Terminal() != slices.Contains(want, s) {
			t.Errorf("%q.Terminal() = %v", s, s.Terminal())
		}
	}
}
