package store

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultReplicaWait is how long a write that must outlive a failover
// waits for a replica to confirm it (Options.ReplicaWait) with Sentinel,
// or on a Redis Cluster whose slot's primary has a replica. A
// replica on the same network confirms in about a millisecond; when it
// does not answer, each such write costs this much and stands on the
// primary alone.
const DefaultReplicaWait = 250 * time.Millisecond

// Writes that wait for a replica, as OnUnreplicated names them.
const (
	WriteClaim   = "claim"         // an event or click claim (Claim)
	WriteIntent  = "launch intent" // a launch, before its run request (SaveIntent)
	WriteAttempt = "reply attempt" // a reply about to be posted (MarkAttempt)
	WriteDM      = "dm attempt"    // a reply about to be sent as a direct message (MarkDMAttempt)
	WriteAudit   = "audit entry"   // an act's entry in the audit trail (Audit)
)

// durably sends the commands write queues on one connection followed,
// when the store waits for replicas (Options.ReplicaWait), by WAIT 1:
// Redis answers it once a replica has every write that connection made,
// or when ReplicaWait has passed. Redis replicates asynchronously, so a
// write the primary took but had not passed on is lost when a failover
// promotes the replica; the writes that keep the bot from doing a thing
// twice (or from losing track of a job it started) wait, so that the
// thing is done only once the replica has them. A write no replica
// confirmed in time stands on the primary alone (OnUnreplicated is told
// what it was): the bot goes on rather than stop while its replica is
// away. Because replication keeps order, the replica then also has every
// write made before, by any connection.
//
// On a Redis Cluster a pipeline of the cluster client sends a command
// without a key, like WAIT, to a node of its choosing, on a connection of
// its own, where WAIT says nothing of the writes. So there the writes and
// the WAIT go to the primary of the store's slot (every key carries the
// prefix's hash tag) through its own node client (onSlotPrimary).
func (s *Store) durably(ctx context.Context, what string, write func(p redis.Pipeliner)) error {
	if cluster, ok := s.rdb.(*redis.ClusterClient); ok && s.replicaWait > 0 {
		return s.onSlotPrimary(ctx, cluster, what, write)
	}
	return s.pipelineAndWait(ctx, s.rdb, what, write)
}

// pipelineAndWait sends write's commands and the WAIT (durably) in one
// pipeline of rdb.
func (s *Store) pipelineAndWait(ctx context.Context, rdb redis.Cmdable, what string, write func(p redis.Pipeliner)) error {
	var acks *redis.Cmd
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		write(p)
		if s.replicaWait > 0 {
			// The pipeline's read deadline (go-redis' ReadTimeout, 3 s by
			// default) must outlast the wait.
			acks = p.Do(ctx, "wait", 1, s.replicaWait.Milliseconds())
		}
		return nil
	})
	if err != nil {
		return err
	}
	if acks != nil {
		if n, _ := acks.Int(); n < 1 && s.onUnreplicated != nil {
			s.onUnreplicated(what)
		}
	}
	return nil
}
