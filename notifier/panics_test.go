package notifier

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// lockedBuffer is a log sink goroutines can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A tick that panics is logged with its stack and counted, and the
// watcher polls again: the next tick reports the job's change.
func TestWatcherKeepsPollingAfterATickPanics(t *testing.T) {
	s, _ := newTestStore(t)
	trackMany(t, s, 1)
	var lists atomic.Int32
	src := &fakeSource{list: func(xplenty.ListOptions) (*xplenty.JobPage, error) {
		if lists.Add(1) == 1 {
			panic("a list answer this code did not expect")
		}
		return &xplenty.JobPage{Jobs: []xplenty.Job{{ID: 1001, Status: xplenty.StatusRunning, UpdatedAt: at(time.Now())}}}, nil
	}}
	var panics atomic.Int32
	logs := &lockedBuffer{}
	w := NewWatcher(s, src, WatcherOptions{
		Holder: "a", Interval: 10 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		OnPanic: func() { panics.Add(1) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	eventually(t, "the next tick records the job running", func() bool {
		r, err := s.Get(context.Background(), 1001)
		return err == nil && r.Status == xplenty.StatusRunning
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if n := panics.Load(); n != 1 {
		t.Errorf("OnPanic called %d times, want 1", n)
	}
	if got := logs.String(); !strings.Contains(got, `"where":"tick"`) || !strings.Contains(got, "panics_test.go") {
		t.Errorf("the panic is not logged with where and the stack:\n%s", got)
	}
}
