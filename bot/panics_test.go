package bot

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// A panic while handling one command is recovered, logged with its stack
// and counted; the bot handles the next command as usual.
func TestPanicInOneCommandDoesNotStopTheNext(t *testing.T) {
	f := newRecoverFixture(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	f.bot.log = slog.New(slog.NewJSONHandler(&lockedWriter{mu: &mu, w: &logs}, nil))
	var commands, panics atomic.Int32
	f.bot.cfg.OnCommand = func(string, Outcome) {
		if commands.Add(1) == 1 {
			panic("a bug after the first command")
		}
	}
	f.bot.cfg.OnPanic = func() { panics.Add(1) }
	ctx := context.Background()
	for _, key := range []string{"first", "second"} {
		req := Request{UserID: "U1", ChannelID: "C1", EventKey: key}
		if err := f.bot.Go(ctx, func(ctx context.Context) { f.bot.HandleCommand(ctx, req, "list") }); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.bot.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.slack.Ephemerals("U1")); n != 2 || commands.Load() != 2 {
		t.Errorf("%d answers to %d commands, want 2 and 2", n, commands.Load())
	}
	if n := panics.Load(); n != 1 {
		t.Errorf("OnPanic called %d times, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := logs.String(); !strings.Contains(got, `"where":"envelope"`) || !strings.Contains(got, "panics_test.go") {
		t.Errorf("the panic is not logged with where and the stack:\n%s", got)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
