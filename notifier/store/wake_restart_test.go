package store

import (
	"context"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/redistest"
)

// A listener keeps hearing wake-ups after Redis restarts: the subscription
// is made again on the new connection.
func TestWakesSurviveARedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	a, err := New(srv.Client(), Options{Prefix: redistest.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wakes, err := a.Wakes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	// Publish until heard: the listener resubscribes on its own schedule.
	deadline := time.Now().Add(60 * time.Second) // guards against a hang
	for {
		_ = a.Wake(ctx)
		select {
		case _, ok := <-wakes:
			if !ok {
				t.Fatal("the wake-ups channel closed when Redis restarted")
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no wake-up heard after Redis restarted")
		}
	}
}
