package notifier

import (
	"testing"

	"github.com/runjob/runjob/notifier/redistest"
)

// The package's tests again, the watcher's store on a Redis Cluster of
// three primaries (the keys under one hash tag, store.EffectivePrefix).
func TestSuiteOnCluster(t *testing.T) {
	t.Parallel()
	redistest.RerunOnCluster(t, "")
}

// The package's tests again, the watcher's store on a Sentinel setup (a
// primary, a replica, three sentinels) through a failover client.
func TestSuiteOnSentinel(t *testing.T) {
	t.Parallel()
	redistest.RerunOnSentinel(t, "")
}
