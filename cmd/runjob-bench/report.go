package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Bounds of issue 15.
const (
	maxRSSKB       = 50 * 1024
	maxRedisPerJob = 2048
)

func printMachine(o options) {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	rv := "redis-server ?"
	if out, err := exec.Command("redis-server", "--version").Output(); err == nil {
		rv = strings.TrimSpace(string(out))
	}
	fmt.Printf("machine: %d CPUs (%s), %s %s/%s; %s\n", runtime.NumCPU(), cpu, runtime.Version(), runtime.GOOS, runtime.GOARCH, rv)
	fmt.Printf("set-up: %d running jobs over %d channels, POLL_INTERVAL=%s, Slack limits on (1 post/s per channel, burst 4; chat.update 50/min)\n\n",
		o.jobs, o.channels, o.poll)
}

// report prints one run's figures and returns how many missed their bound.
func report(w io.Writer, o options, r *result) int {
	missed := 0
	check := func(ok bool) string {
		if ok {
			return "ok"
		}
		missed++
		return "MISSED"
	}
	fmt.Fprintf(w, "== %d replica(s) ==\n", r.replicas)
	perJob := float64(r.jobKeys+r.indexKeys) / float64(o.jobs)
	infoPerJob := float64(r.usedAfter-r.usedBefore) / float64(o.jobs)
	fmt.Fprintf(w, "redis per job     MEMORY USAGE %.0f B (job hash %.0f B + indexes %.0f B); INFO used_memory +%.0f B   [≤ %d B: %s]\n",
		perJob, float64(r.jobKeys)/float64(o.jobs), float64(r.indexKeys)/float64(o.jobs), infoPerJob,
		maxRedisPerJob, check(perJob > 0 && perJob <= maxRedisPerJob && infoPerJob > 0 && infoPerJob <= maxRedisPerJob))
	fmt.Fprintf(w, "seeding           %s; replicas caught up %s after start\n", r.seedTime.Round(time.Millisecond), r.warmup.Round(time.Second))
	s := r.steady
	fmt.Fprintf(w, "calls/tick still  %d ticks: mean %.2f, max %d (catalog %.1f calls/min besides)   [≤ 2: %s]\n",
		s.n, s.meanCalls, s.maxCalls, s.otherPerMin, check(s.n > 0 && s.over == 0))
	c := r.changes
	fmt.Fprintf(w, "calls/tick moving %d ticks, %.0f changed a tick on average (max %d): mean %.2f, max %d; ticks over 2+changed/100: %d   [%s]\n",
		c.n, c.meanChanged, c.maxChanged, c.meanCalls, c.maxCalls, c.over, check(c.n > 0 && c.over == 0))
	for _, t := range r.overTicks {
		fmt.Fprintf(w, "  over: tick at %s, %d changed since the tick before, %d calls\n", t.at.Format("15:04:05.000"), t.changed, t.calls)
	}
	for i := range r.rssSteadyKB {
		fmt.Fprintf(w, "rss replica %d     %.1f MB with %d jobs tracked; peak %.1f MB   [≤ 50 MB: %s]\n",
			i+1, float64(r.rssSteadyKB[i])/1024, o.jobs, float64(r.rssPeakKB[i])/1024, check(r.rssSteadyKB[i] > 0 && r.rssSteadyKB[i] <= maxRSSKB))
	}
	bound := o.poll + 5*time.Second
	p50, p99, worst := pct(r.lags, 0.50), pct(r.lags, 0.99), pct(r.lags, 1)
	fmt.Fprintf(w, "replies           %d of %d, %d duplicate(s); delay p50 %s, p99 %s, max %s   [p99 ≤ %s: %s]\n",
		r.replies, o.finish, r.duplicates, p50, p99, worst, bound, check(r.replies == o.finish && r.duplicates == 0 && p99 <= bound))
	fmt.Fprintf(w, "slack             %d answers 429, %d calls inside a Retry-After   [none inside: %s]\n", r.ratelimited, r.violations, check(r.violations == 0))
	for i, err := range r.exits {
		if err != nil {
			fmt.Fprintf(w, "replica %d exit    %v   [%s]\n", i+1, err, check(false))
		}
	}
	fmt.Fprintln(w)
	return missed
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(p*float64(len(ds))+0.5) - 1
	i = max(0, min(i, len(ds)-1))
	return ds[i].Round(10 * time.Millisecond)
}
