package store

import (
	"testing"

	"github.com/runjob/runjob/notifier/redistest"
)

// ownServers are the tests that start Redis servers of their own (a
// Sentinel setup, a cluster, a server they restart): a re-run on another
// topology would run them unchanged, so it leaves them out.
const ownServers = `^(TestStoreOnSentinelSurvivesFailover|TestWakesSurviveARedisRestart|` +
	`TestStoreOnClusterKeepsEveryKeyInOneSlot|TestWakeOnClusterIsHeardFromEveryNode|` +
	`TestDurableWritesOnAClusterWaitForTheSlotsReplica|TestDurableWritesOnAClusterWaitOnTheSlotsPrimary|` +
	`TestDurableWriteOnAClusterFollowsAFailover)$`

// The package's tests again, every store on a Redis Cluster of three
// primaries (the keys under one hash tag, store.EffectivePrefix).
func TestSuiteOnCluster(t *testing.T) {
	t.Parallel()
	redistest.RerunOnCluster(t, ownServers)
}

// The package's tests again, every store on a Sentinel setup (a primary,
// a replica, three sentinels) through a failover client.
func TestSuiteOnSentinel(t *testing.T) {
	t.Parallel()
	redistest.RerunOnSentinel(t, ownServers)
}
