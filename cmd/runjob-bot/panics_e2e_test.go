package main

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/ops"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// once reports true the first time it is asked for a key.
type once struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (o *once) first(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[key] {
		return false
	}
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	o.seen[key] = true
	return true
}

// A panic in the event loop (the connection event), in the goroutine of a
// command, in a watcher tick and in a delivery is each recovered, counted,
// logged with its stack, and the bot serves on: the job is started,
// followed and reported as if nothing had happened.
func TestE2EPanicsAreRecoveredAndTheBotServesOn(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	var panicked sync.Map // where → *atomic.Int32
	count := func(where string) int32 {
		n, _ := panicked.LoadOrStore(where, new(atomic.Int32))
		return n.(*atomic.Int32).Load()
	}
	var first once
	var deliveries sync.Map // kind → times OnDelivered was reached
	h := ops.Hooks{
		Panicked: func(where string) {
			n, _ := panicked.LoadOrStore(where, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
		},
		Command: func(_ string, o bot.Outcome) {
			if o == bot.Help && first.first("command") {
				panic("a bug after a command")
			}
		},
		Xplenty: func(method, route string, _ int, _ time.Duration) {
			if method == "GET" && route == "/jobs" && first.first("list") {
				panic("a bug in a tick")
			}
		},
		Delivered: func(kind string, _ int64, _ xplenty.Status) {
			n, _ := deliveries.LoadOrStore(kind, new(atomic.Int32))
			if n.(*atomic.Int32).Add(1) == 1 && kind == "card" {
				panic("a bug after a card edit")
			}
		},
	}
	e.startBotWith(h, func() {
		if first.first("connected") {
			panic("a bug in the event loop")
		}
	})

	e.command("U1", "C1", "help")
	e.waitEphemeral("U1", "runjob")
	e.command("U1", "C1", "cluster=52 package=434")
	c := e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusCompleted)
	e.waitCard(1001, "completed")
	r := e.waitReplies(c, 1)[0]
	if !strings.Contains(r.Text, "completed") {
		t.Errorf("reply = %q", r.Text)
	}
	for _, where := range []string{"envelope", "tick", "delivery"} {
		want := int32(1)
		if where == "envelope" {
			want = 2 // the connection event and the help command
		}
		if got := count(where); got != want {
			t.Errorf("%d panics recovered at %s, want %d", got, where, want)
		}
	}
	// The hook runs after Slack took the edit, so it may lag the card the
	// test saw; wait for it rather than read it once.
	cardDeliveries := func() int32 {
		n, _ := deliveries.LoadOrStore("card", new(atomic.Int32))
		return n.(*atomic.Int32).Load()
	}
	for deadline := time.Now().Add(waitLimit); cardDeliveries() < 2 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if cardDeliveries() < 2 {
		t.Errorf("no card delivery after the one that panicked")
	}
	for _, want := range []string{`"where":"envelope"`, `"where":"tick"`, `"where":"delivery"`, "panics_e2e_test.go"} {
		if !strings.Contains(e.logs.String(), want) {
			t.Errorf("the logs lack %s", want)
		}
	}
}
