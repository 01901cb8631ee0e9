package store

import (
	"context"
	"fmt"
)

// Wake-ups of the watcher. Any replica may hear that Xplenty has news (its
// web hooks reach whichever replica the load balancer picks), but only the
// replica holding the polling lease polls. So a wake-up is published on the
// watch:wake channel; every replica that listens hears it, and the leader
// acts on it (notifier.Watcher). Pub/sub keeps nothing: a wake-up nobody
// hears (the leader is reconnecting, or changing) is lost, and the next
// regular poll finds the change: polling stays the safety net.

// Wake asks the replica polling Xplenty to poll now.
func (s *Store) Wake(ctx context.Context) error {
	if err := s.rdb.Publish(ctx, s.keys.Wake(), "1").Err(); err != nil {
		return fmt.Errorf("wake the watcher: %w", err)
	}
	return nil
}

// Wakes listens for the wake-ups of Wake, from any replica, until ctx
// ends; then the channel is closed. It returns once Redis has confirmed the
// subscription, so that any Wake after that is heard. Wake-ups that come
// faster than they are read are folded together: the channel holds at most
// one. The subscription survives a lost connection (it is made again), but
// what was published meanwhile is not heard.
func (s *Store) Wakes(ctx context.Context) (<-chan struct{}, error) {
	ps := s.rdb.Subscribe(ctx, s.keys.Wake())
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("listen for wake-ups: %w", err)
	}
	in := ps.Channel()
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out, nil
}
