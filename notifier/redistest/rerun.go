package redistest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The topologies a package's tests can be re-run on (Rerun).
const (
	ModeCluster  = "cluster"  // a Redis Cluster: Client gives a *redis.ClusterClient
	ModeSentinel = "sentinel" // a Sentinel setup: Client gives a failover client
)

// The environment of a re-run: the topology Client gives clients of, and
// its URL as REDIS_URL gives it for that REDIS_MODE.
const (
	EnvMode = "RUNJOB_TEST_REDIS_MODE"
	EnvURL  = "RUNJOB_TEST_REDIS_URL"
)

// Mode is the topology this test process runs on: ModeCluster,
// ModeSentinel, or "" for one server (not a re-run).
func Mode() string { return os.Getenv(EnvMode) }

// topologyClient is a client of the re-run's topology, or nil when this
// process is not a re-run.
func topologyClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	mode, url := Mode(), os.Getenv(EnvURL)
	var rdb redis.UniversalClient
	switch mode {
	case "":
		return nil
	case ModeCluster:
		o, err := redis.ParseClusterURL(url)
		if err != nil {
			t.Fatalf("%s=%s: %s is not a cluster URL: %v", EnvMode, mode, EnvURL, err)
		}
		o.ContextTimeoutEnabled = true
		rdb = redis.NewClusterClient(o)
	case ModeSentinel:
		o, err := redis.ParseFailoverURL(url)
		if err != nil {
			t.Fatalf("%s=%s: %s is not a sentinel URL: %v", EnvMode, mode, EnvURL, err)
		}
		o.ContextTimeoutEnabled = true
		rdb = redis.NewFailoverClient(o)
	default:
		t.Fatalf("%s=%q: want %s or %s", EnvMode, mode, ModeCluster, ModeSentinel)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		t.Fatalf("the %s of %s=%s does not answer: %v", mode, EnvURL, url, err)
	}
	return rdb
}

// RerunOnCluster runs the tests of the calling package again on a Redis
// Cluster of its own (StartCluster), as rerun says.
func RerunOnCluster(t *testing.T, skip string) {
	t.Helper()
	skipInRerun(t)
	rerun(t, ModeCluster, StartCluster(t).URL(), skip)
}

// RerunOnSentinel runs the tests of the calling package again on a
// Sentinel setup of its own (StartSentinel), as rerun says.
func RerunOnSentinel(t *testing.T, skip string) {
	t.Helper()
	skipInRerun(t)
	rerun(t, ModeSentinel, StartSentinel(t).URL(), skip)
}

// skipInRerun skips t in a re-run: a re-run never starts another.
func skipInRerun(t *testing.T) {
	t.Helper()
	if m := Mode(); m != "" {
		t.Skipf("skipped: this process is already a re-run on %s", m)
	}
}

// rerun runs the tests of the calling package again, on the topology at
// url (mode ModeCluster or ModeSentinel): the package's test binary
// (os.Args[0]) in a child process whose Client gives clients of that
// topology. skip, when not empty, is a regexp of the tests the child leaves
// out (those that start servers of their own and so learn nothing new
// there); the calling test itself is always left out. The child's output
// is shown when it fails, and the test fails when the child ran no test.
func rerun(t *testing.T, mode, url, skip string) {
	t.Helper()
	leaveOut := "^" + regexp.QuoteMeta(t.Name()) + "$"
	if skip != "" {
		leaveOut += "|" + skip
	}
	args := []string{"-test.count=1", "-test.v", "-test.skip=" + leaveOut}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok && time.Until(deadline) > 2*time.Minute {
		// Leave the parent time to report the child's failure.
		deadline = deadline.Add(-30 * time.Second)
		args = append(args, "-test.timeout="+time.Until(deadline).Round(time.Second).String())
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(10*time.Second))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), EnvMode+"="+mode, EnvURL+"="+url)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	passed, skipped := countTests(out)
	if err != nil {
		t.Fatalf("the tests re-run on %s failed (%v):\n%s", mode, err, quiet(out))
	}
	if passed == 0 {
		t.Fatalf("the re-run on %s ran no test:\n%s", mode, out)
	}
	t.Logf("re-run on %s: %d tests passed, %d skipped", mode, passed, skipped)
}

// countTests counts the top-level tests of a -test.v output that passed
// and that were skipped.
func countTests(out []byte) (passed, skipped int) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		switch line := sc.Text(); {
		case strings.HasPrefix(line, "--- PASS: "):
			passed++
		case strings.HasPrefix(line, "--- SKIP: "):
			skipped++
		}
	}
	return passed, skipped
}

// quiet is a -test.v output without the lines that only say a test ran,
// paused, went on or passed, so a failure stands out.
func quiet(out []byte) string {
	var sb strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if strings.HasPrefix(trimmed, "=== ") || strings.HasPrefix(trimmed, "--- PASS: ") {
			continue
		}
		sb.WriteString(line)
		sb.WriteByte('\n')
	}
	return sb.String()
}
