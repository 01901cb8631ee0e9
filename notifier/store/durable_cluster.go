package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// slotMoveWait bounds how long a durable write that found its slot moved
// (MOVED) waits for the cluster client's map of the slots to name the new
// primary, so that the next write goes there. The map is read from a node
// (CLUSTER SLOTS) in a millisecond; after a failover the nodes learn the
// new primary over the cluster bus within about as long.
const slotMoveWait = 2 * time.Second

// onSlotPrimary sends write's commands and the WAIT (durably) in one
// pipeline on the primary of the store's hash slot, as the cluster
// client's map of the slots names it. A node client follows no
// redirection: when the slot has moved (a failover promoted the replica,
// or the slot was resharded) the node answers MOVED and nothing of the
// write is done there. The map is then reloaded until it names another
// primary for the slot (at most slotMoveWait), and the write goes once
// more, to the new primary; if the map does not change in time, the MOVED
// error is returned, which the caller handles like any other Redis error.
// Any other error (the primary does not answer; ASK while the slot is
// being resharded) asks for a reload too, without waiting: the cluster
// promotes a lost primary's replica only after its node timeout.
func (s *Store) onSlotPrimary(ctx context.Context, cluster *redis.ClusterClient, what string, write func(p redis.Pipeliner)) error {
	primary, err := cluster.MasterForKey(ctx, s.keys.prefix)
	if err != nil {
		return fmt.Errorf("the primary of slot {%s}: %w", HashTag(s.keys.prefix), err)
	}
	err = s.pipelineAndWait(ctx, primary, what, write)
	if err == nil {
		return nil
	}
	cluster.ReloadState(ctx)
	if !isMoved(err) || !s.awaitSlotMoved(ctx, cluster, primary.Options().Addr) {
		return err
	}
	// The old primary refused every command of the pipeline: nothing was
	// written, so the write goes once more, to the new one.
	if primary, err = cluster.MasterForKey(ctx, s.keys.prefix); err != nil {
		return fmt.Errorf("the primary of slot {%s}: %w", HashTag(s.keys.prefix), err)
	}
	return s.pipelineAndWait(ctx, primary, what, write)
}

// awaitSlotMoved reloads the cluster client's map of the slots until it no
// longer names old as the primary of the store's slot (true), or ctx is
// done or slotMoveWait has passed (false).
func (s *Store) awaitSlotMoved(ctx context.Context, cluster *redis.ClusterClient, old string) bool {
	ctx, cancel := context.WithTimeout(ctx, slotMoveWait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
		if p, err := cluster.MasterForKey(ctx, s.keys.prefix); err == nil && p.Options().Addr != old {
			return true
		}
		// A reload already under way marks another one due after it.
		cluster.ReloadState(ctx)
	}
}

// isMoved reports whether err is the redirection a node answers for a
// slot it no longer serves: "MOVED <slot> <addr>". (ASK, for a key of a
// slot being moved, changes no map until the move ends.) go-redis keeps
// its own test unexported.
func isMoved(err error) bool {
	return strings.HasPrefix(err.Error(), "MOVED ")
}
