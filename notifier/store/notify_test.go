package store

import (
	"context"
	"sync"
	"testing"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/xplenty"
)

func TestNotifySettings(t *testing.T) {
	s, rdb := newTestStore(t)
	ctx := context.Background()
	got, err := s.Notify(ctx, "C1")
	if err != nil || got != DefaultNotify {
		t.Fatalf("Notify of a new channel = %+v, %v; want the default", got, err)
	}

	before, after, err := s.SetNotify(ctx, "C1", commands.Notify{Level: commands.NotifyFailures, Mention: commands.MentionOff})
	if err != nil {
		t.Fatal(err)
	}
	want := NotifySettings{Level: commands.NotifyFailures, Broadcast: commands.NotifyOff, Mention: false}
	if before != DefaultNotify || after != want {
		t.Errorf("SetNotify = %+v → %+v, want %+v → %+v", before, after, DefaultNotify, want)
	}
	// A later change keeps what it does not name.
	before, after, err = s.SetNotify(ctx, "C1", commands.Notify{Broadcast: commands.NotifyFailures})
	if err != nil {
		t.Fatal(err)
	}
	want2 := want
	want2.Broadcast = commands.NotifyFailures
	if before != want || after != want2 {
		t.Errorf("second SetNotify = %+v → %+v, want %+v → %+v", before, after, want, want2)
	}
	if got, err := s.Notify(ctx, "C1"); err != nil || got != want2 {
		t.Errorf("Notify = %+v, %v; want %+v", got, err, want2)
	}
	// Settings are per channel, and never expire.
	if got, _ := s.Notify(ctx, "C2"); got != DefaultNotify {
		t.Errorf("another channel has %+v", got)
	}
	if ttl := rdb.TTL(ctx, s.keys.Notify("C1")).Val(); ttl >= 0 {
		t.Errorf("the settings expire in %v", ttl)
	}
	// Values it does not know read as the default.
	rdb.HSet(ctx, s.keys.Notify("C3"), fNotifyLevel, "loud", fNotifyMention, "maybe", fNotifyBroadcast, "all")
	if got, _ := s.Notify(ctx, "C3"); got != DefaultNotify {
		t.Errorf("unknown values read as %+v, want the default", got)
	}
}

// Two changes at once, each of another setting: both stay.
func TestSetNotifyConcurrent(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, c := range []commands.Notify{{Level: commands.NotifyOff}, {Mention: commands.MentionOff}, {Broadcast: commands.NotifyFailures}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.SetNotify(ctx, "C1", c); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want := NotifySettings{Level: commands.NotifyOff, Broadcast: commands.NotifyFailures, Mention: false}
	if got, _ := s.Notify(ctx, "C1"); got != want {
		t.Errorf("Notify = %+v, want %+v", got, want)
	}
}

func TestDMAttemptOnce(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if tried, err := s.DMAttempted(ctx, 1001, xplenty.StatusFailed); err != nil || tried {
		t.Fatalf("DMAttempted before any = %v, %v", tried, err)
	}
	first, err := s.MarkDMAttempt(ctx, 1001, xplenty.StatusFailed, "r1")
	if err != nil || !first {
		t.Fatalf("first MarkDMAttempt = %v, %v", first, err)
	}
	if again, _ := s.MarkDMAttempt(ctx, 1001, xplenty.StatusFailed, "r2"); again {
		t.Error("a second MarkDMAttempt was first too")
	}
	if tried, _ := s.DMAttempted(ctx, 1001, xplenty.StatusFailed); !tried {
		t.Error("DMAttempted = false after MarkDMAttempt")
	}
	if other, _ := s.MarkDMAttempt(ctx, 1001, job.StatusSlow, "r1"); !other {
		t.Error("another status's DM is not a first try")
	}
	if err := s.ClearDMAttempt(ctx, 1001, xplenty.StatusFailed); err != nil {
		t.Fatal(err)
	}
	if first, _ := s.MarkDMAttempt(ctx, 1001, xplenty.StatusFailed, "r2"); !first {
		t.Error("MarkDMAttempt after ClearDMAttempt is not a first try")
	}
}
