package store

import (
	"context"
	"testing"
)

// One record that does not decode (damaged, or written by a later
// version) leaves itself out of the lists that read many records – the
// Home tab's running jobs, a person's jobs, /runjob list – instead of
// emptying them for everyone.
func TestListsLeaveOutARecordThatDoesNotDecode(t *testing.T) {
	s, rdb := newTestStore(t)
	ctx := context.Background()
	for _, id := range []int64{1001, 1002} {
		r := testRecord(id)
		r.CardTS = "1700000000.00010" + string(rune('0'+id%10))
		if err := s.Track(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.HSet(ctx, s.keys.Job(1001), fSpec, "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	running, _, err := s.Running(ctx, 10)
	if err != nil || len(running) != 1 || running[0].JobID != 1002 {
		t.Errorf("Running: %d records, %v; want job 1002 alone", len(running), err)
	}
	mine, err := s.RecentBy(ctx, "U1", 10)
	if err != nil || len(mine) != 1 || mine[0].JobID != 1002 {
		t.Errorf("RecentBy: %d records, %v; want job 1002 alone", len(mine), err)
	}
	recent, err := s.Recent(ctx, "C1", 10)
	if err != nil || len(recent) != 1 || recent[0].JobID != 1002 {
		t.Errorf("Recent: %d records, %v; want job 1002 alone", len(recent), err)
	}
}
