package deliver

import (
	"testing"

	"github.com/runjob/runjob/notifier/redistest"
)

// ownServer is the test that stops a Redis server of its own: a re-run on
// another topology would run it unchanged, so it leaves it out.
const ownServer = `^TestPosterPostsWhenRedisIsDown$`

// The package's tests again, the deliverer's store on a Redis Cluster of
// three primaries (the keys under one hash tag, store.EffectivePrefix).
func TestSuiteOnCluster(t *testing.T) {
	t.Parallel()
	redistest.RerunOnCluster(t, ownServer)
}

// The package's tests again, the deliverer's store on a Sentinel setup (a
// primary, a replica, three sentinels) through a failover client.
func TestSuiteOnSentinel(t *testing.T) {
	t.Parallel()
	redistest.RerunOnSentinel(t, ownServer)
}
