package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// options are the bench's flags.
type options struct {
	jobs, finish, changes, channels int
	poll                            time.Duration
	steadyTicks, changeTicks        int
	redisURL                        string // "" starts a redis-server of the bench's own
	verbose                         bool   // log every tick and list request
	bin                             string
}

// result is what one run (one number of replicas) measured.
type result struct {
	replicas                int
	seedTime                time.Duration
	usedBefore, usedAfter   int64 // INFO used_memory around the seeding
	jobKeys, indexKeys      int64 // MEMORY USAGE: the job hashes, and the shared indexes
	warmup                  time.Duration
	steady, changes         tickSummary
	overTicks               []tick // ticks of the changes phase over their bound
	rssSteadyKB, rssPeakKB  []int64
	lags                    []time.Duration
	replies, duplicates     int
	ratelimited, violations int
	exits                   []error
}

const secretKey = "bench-sealing-key-0123456789abcdef0123456789"

func runScenario(ctx context.Context, o options, replicas int, logf func(string, ...any)) (*result, error) {
	res := &result{replicas: replicas}
	sl := slacktest.New(slacktest.Options{})
	defer sl.Close()
	xp := xplentytest.New(xplentytest.Options{Budget: 10_000_000, KeepRequests: 2_000_000})
	defer xp.Close()

	ropts, err := redis.ParseURL(o.redisURL)
	if err != nil {
		return nil, fmt.Errorf("-redis: not a Redis URL")
	}
	rdb := redis.NewClient(ropts)
	defer rdb.Close()
	prefix := fmt.Sprintf("runjobbench:%d:%d:", os.Getpid(), replicas)
	defer cleanup(rdb, prefix)
	st, err := store.New(rdb, store.Options{Prefix: prefix, SecretKey: []byte(secretKey)})
	if err != nil {
		return nil, err
	}

	// Seed: Redis memory before and after, and per key.
	if res.usedBefore, err = usedMemory(ctx, rdb); err != nil {
		return nil, err
	}
	start := time.Now()
	logf("seeding %d running jobs over %d channels", o.jobs, o.channels)
	recs, err := seed(ctx, sl, xp, st, o.jobs, o.channels)
	if err != nil {
		return nil, err
	}
	res.seedTime = time.Since(start)
	if res.usedAfter, err = usedMemory(ctx, rdb); err != nil {
		return nil, err
	}
	keys := st.Keys()
	var jobKeys []string
	chans := map[string]bool{}
	users := map[string]bool{}
	for _, r := range recs {
		jobKeys = append(jobKeys, keys.Job(r.JobID))
		chans[keys.Channel(r.Channel)] = true
		users[keys.User(r.Requester)] = true
	}
	if res.jobKeys, err = memoryUsage(ctx, rdb, jobKeys); err != nil {
		return nil, err
	}
	index := []string{keys.Active(), keys.Since(), keys.Cards()}
	for k := range chans {
		index = append(index, k)
	}
	for k := range users {
		index = append(index, k)
	}
	if res.indexKeys, err = memoryUsage(ctx, rdb, index); err != nil {
		return nil, err
	}

	// Slack's limits from now on, as the replicas will meet them.
	limits := slacktest.DefaultLimits()
	sl.SetLimits(&limits)

	env := []string{
		"SLACK_APP_TOKEN=" + sl.AppToken(), "SLACK_BOT_TOKEN=" + sl.BotToken(), "SLACK_API_URL=" + sl.APIURL(),
		"XPLENTY_ACCOUNT_ID=" + xp.AccountID(), "XPLENTY_API_KEY=" + xp.APIKey(), "XPLENTY_API_URL=" + xp.URL(),
		"REDIS_URL=" + o.redisURL, "REDIS_MODE=single", "REDIS_PREFIX=" + prefix,
		"RUNJOB_SECRET_KEY=" + secretKey, "POLL_INTERVAL=" + o.poll.String(),
		"ALLOWED_USERS=*", "ALLOWED_CHANNELS=*", "LOG_LEVEL=warn",
	}
	var fleet []*replica
	defer func() {
		for _, r := range fleet {
			select {
			case <-r.done:
			default:
				_ = r.cmd.Process.Kill()
			}
		}
	}()
	started := time.Now()
	for range replicas {
		r, err := startReplica(o.bin, env)
		if err != nil {
			return nil, err
		}
		fleet = append(fleet, r)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, r := range fleet {
		if err := r.waitReady(rctx); err != nil {
			return nil, err
		}
	}
	if err := sl.WaitConnections(rctx, replicas); err != nil {
		return nil, fmt.Errorf("socket connections: %w", err)
	}

	// Warm-up: the first ticks page through the jobs created before the
	// watermark; wait for three ticks in a row of one list page.
	logf("%d replica(s) up; waiting for the watcher to catch up", replicas)
	if err := waitCaughtUp(ctx, xp, started, o.poll/2, 3*time.Minute, o.verbose, logf); err != nil {
		return nil, err
	}
	res.warmup = time.Since(started)

	// Steady: 10,000 tracked, nothing changes.
	from := time.Now()
	sleep(ctx, time.Duration(o.steadyTicks)*o.poll)
	steady := ticksOf(xp.Requests(), from, time.Now(), o.poll/2)
	countChanged(steady, nil)
	res.steady = summarize(steady, time.Since(from))

	// Changes: o.changes jobs a poll interval (never the same twice, never
	// one of those that will finish) move on, spread evenly over time, as
	// jobs do.
	logf("changes: %d jobs a poll interval for %d intervals", o.changes, o.changeTicks)
	from = time.Now()
	pool := recs[o.finish:]
	rng := rand.New(rand.NewPCG(1, uint64(replicas)))
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	total := min(o.changes*o.changeTicks, len(pool))
	step := time.Duration(int64(o.poll) * int64(o.changeTicks) / int64(max(total, 1)))
	var changedAt []time.Time
	next := time.Now()
	for _, r := range pool[:total] {
		if err := sleep(ctx, time.Until(next)); err != nil {
			return nil, err
		}
		next = next.Add(step)
		if err := xp.SetProgress(r.JobID, 0.5); err != nil {
			return nil, err
		}
		changedAt = append(changedAt, time.Now())
	}
	sleep(ctx, 2*o.poll)
	changes := ticksOf(xp.Requests(), from, time.Now(), o.poll/2)
	countChanged(changes, changedAt)
	res.changes = summarize(changes, time.Since(from))
	for _, t := range changes {
		if t.calls > t.bound() {
			res.overTicks = append(res.overTicks, t)
		}
	}
	if o.verbose {
		for _, t := range changes {
			logf("tick at %s (previous %s) since %s: %d calls, %d changed", t.at.Format("15:04:05.000"), t.prev.Format("15:04:05.000"), t.since.Format("15:04:05"), t.calls, t.changed)
		}
		for _, r := range xp.Requests() {
			if r.At.After(from) && classify(r) != "other" {
				logf("%s %s %s", r.At.Format("15:04:05.000"), r.Path, r.Query.Encode())
			}
		}
	}
	for _, r := range fleet {
		r.markSteady()
	}

	// Finish: o.finish jobs (o.finish/channels a channel) complete at once.
	logf("finish: %d jobs complete at once", o.finish)
	doneAt := map[string]time.Time{} // card ts → when its job completed
	for _, r := range recs[:o.finish] {
		if err := xp.SetStatus(r.JobID, xplenty.StatusCompleted); err != nil {
			return nil, err
		}
		doneAt[r.Channel+"/"+r.CardTS] = time.Now()
	}
	replies, err := waitReplies(ctx, sl, doneAt, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	for key, posted := range replies {
		res.lags = append(res.lags, posted[0].Sub(doneAt[key]))
		res.replies++
		res.duplicates += len(posted) - 1
	}
	slices.Sort(res.lags)
	snap := sl.Snapshot()
	for _, c := range snap.Calls("") {
		if c.Status == 429 {
			res.ratelimited++
		}
	}
	res.violations = len(snap.RetryAfterViolations())

	for _, r := range fleet {
		steadyKB, peakKB := r.memory()
		res.rssSteadyKB = append(res.rssSteadyKB, steadyKB)
		res.rssPeakKB = append(res.rssPeakKB, peakKB)
	}
	for _, r := range fleet {
		res.exits = append(res.exits, r.stop())
	}
	return res, nil
}

// waitCaughtUp waits until three ticks in a row fetched one list page.
func waitCaughtUp(ctx context.Context, xp *xplentytest.Server, from time.Time, gap, limit time.Duration, verbose bool, logf func(string, ...any)) error {
	deadline := time.Now().Add(limit)
	var shown time.Time
	for time.Now().Before(deadline) {
		ticks := ticksOf(xp.Requests(), from, time.Now(), gap)
		if n := len(ticks); n >= 3 && !slices.ContainsFunc(ticks[n-3:], func(t tick) bool { return t.calls > 2 }) {
			return nil
		}
		if verbose && len(ticks) > 0 && ticks[len(ticks)-1].at.After(shown) {
			t := ticks[len(ticks)-1]
			shown = t.at
			logf("warm-up tick at %s: %d calls, %d other", t.at.Format("15:04:05.000"), t.calls, t.other)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
	return errors.New("the watcher did not catch up with the jobs within " + limit.String())
}

// waitReplies waits until every card of doneAt has a thread reply, and
// returns the reply times per card (more than one is a duplicate).
func waitReplies(ctx context.Context, sl *slacktest.Server, doneAt map[string]time.Time, limit time.Duration) (map[string][]time.Time, error) {
	collect := func() map[string][]time.Time {
		got := map[string][]time.Time{}
		for _, m := range sl.Messages() {
			if m.ThreadTS == "" || m.Metadata == nil || m.Metadata.EventType != deliver.ReplyEventType {
				continue
			}
			key := m.Channel + "/" + m.ThreadTS
			if _, ok := doneAt[key]; ok {
				got[key] = append(got[key], m.PostedAt)
			}
		}
		return got
	}
	deadline := time.Now().Add(limit)
	for {
		got := collect()
		if len(got) == len(doneAt) {
			// Give a duplicate time to show up before counting.
			if err := sleep(ctx, 3*time.Second); err != nil {
				return nil, err
			}
			return collect(), nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d replies within %s", len(got), len(doneAt), limit)
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func cleanup(rdb *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}
