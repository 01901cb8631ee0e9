package store

import (
	"context"
	"testing"
	"time"
)

// A wake-up published on one store reaches every listener on the same
// prefix; a listener stops when its context ends.
func TestWakeReachesEveryListenerOfItsPrefix(t *testing.T) {
	a, rdb := newTestStore(t)
	b, err := New(rdb, Options{Prefix: a.keys.prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wa, err := a.Wakes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := b.Wakes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := b.Wake(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for name, w := range map[string]<-chan struct{}{"a": wa, "b": wb} {
		select {
		case <-w:
		case <-time.After(10 * time.Second): // guards against a hang, not a timing assertion
			t.Fatalf("listener %s heard no wake-up", name)
		}
	}
	cancel()
	for range wa { // drained and closed once ctx ends
	}
}
