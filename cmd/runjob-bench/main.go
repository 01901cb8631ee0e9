// Command runjob-bench measures what the bot costs at scale: it runs the
// real runjob-bot binary (built from this module), as one replica and then
// as three, against the fake Slack (bot/slacktest, enforcing Slack's
// per-channel pacing and the Tier 3 chat.update limit), the fake Xplenty
// (xplenty/xplentytest) and a redis-server of its own, with 10,000 running
// jobs tracked, and reports:
//
//   - Xplenty calls per poll tick, with nothing changing and with a few
//     hundred jobs changing each tick, against the bound 2 + 1 per 100
//     changed jobs;
//   - each replica's resident memory (VmRSS) with the jobs tracked, and its
//     peak (VmHWM) over the whole run;
//   - Redis memory per tracked job: MEMORY USAGE of the jobs' keys and of
//     the shared indexes, and INFO memory's used_memory before and after;
//   - the delay from 1,000 jobs (over 250 channels) completing at once to
//     each one's thread reply, against the poll interval plus 5 s.
//
// Run it from the module's root:
//
//	go run ./cmd/runjob-bench
//
// It is a measurement, not a test: it prints figures and exits 1 only when
// the run itself failed or a bound was missed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	var o options
	var replicas string
	flag.IntVar(&o.jobs, "jobs", 10_000, "running jobs tracked")
	flag.IntVar(&o.finish, "finish", 1_000, "jobs that complete at once")
	flag.IntVar(&o.channels, "channels", 250, "channels the jobs are spread over")
	flag.IntVar(&o.changes, "changes", 250, "jobs that change in each interval of the changes phase")
	flag.DurationVar(&o.poll, "poll", 5*time.Second, "POLL_INTERVAL of the replicas (the bot accepts 5s at least)")
	flag.IntVar(&o.steadyTicks, "steady", 10, "poll intervals measured with nothing changing")
	flag.IntVar(&o.changeTicks, "change-ticks", 10, "poll intervals with changes")
	flag.StringVar(&o.redisURL, "redis", "", "redis:// URL (or host:port) of a Redis to use; its other data counts in INFO memory (default: start a redis-server of its own, so INFO memory counts only the bench)")
	flag.BoolVar(&o.verbose, "v", false, "log the watcher's ticks (warm-up and changes) and its list requests")
	flag.StringVar(&replicas, "replicas", "1,3", "replica counts to run, comma-separated")
	flag.Parse()
	log.SetFlags(log.Ltime)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, replicas); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, replicas string) error {
	if o.finish > o.jobs {
		return fmt.Errorf("-finish must be at most -jobs")
	}
	var counts []int
	for _, f := range strings.Split(replicas, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-replicas: %q is not a replica count", f)
		}
		counts = append(counts, n)
	}
	dir, err := os.MkdirTemp("", "runjob-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log.Print("building ./cmd/runjob-bot")
	if o.bin, err = buildBot(ctx, dir); err != nil {
		return err
	}
	if o.redisURL == "" {
		addr, stopRedis, err := ownRedis(dir)
		if err != nil {
			return err
		}
		defer stopRedis()
		o.redisURL = "redis://" + addr
	}
	if !strings.Contains(o.redisURL, "://") {
		o.redisURL = "redis://" + o.redisURL
	}
	if _, err := redis.ParseURL(o.redisURL); err != nil {
		return fmt.Errorf("-redis: not a Redis URL (redis://[:password@]host:port[/db])")
	}
	printMachine(o)
	missed := 0
	for _, n := range counts {
		res, err := runScenario(ctx, o, n, log.Printf)
		if err != nil {
			return fmt.Errorf("%d replica(s): %w", n, err)
		}
		missed += report(os.Stdout, o, res)
	}
	if missed > 0 {
		return fmt.Errorf("%d figure(s) missed their bound", missed)
	}
	return nil
}
