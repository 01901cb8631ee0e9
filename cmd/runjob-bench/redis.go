package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// ownRedis starts a redis-server of the bench's own on a free loopback
// port, so that INFO memory measures the bot's keys and nothing else. It
// persists nothing (memory is what is measured, not disk).
func ownRedis(dir string) (addr string, stop func(), err error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return "", nil, fmt.Errorf("redis-server is not installed (apt-get install redis-server), or give -redis host:port: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	addr = "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", dir+"/redis.log")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return addr, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server on %s did not answer: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// usedMemory is INFO memory's used_memory, in bytes.
func usedMemory(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	info, err := rdb.InfoMap(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	v, ok := info["Memory"]["used_memory"]
	if !ok {
		return 0, fmt.Errorf("INFO memory has no used_memory")
	}
	return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
}

// memoryUsage sums MEMORY USAGE (all samples) over keys, pipelined.
func memoryUsage(ctx context.Context, rdb redis.UniversalClient, keys []string) (int64, error) {
	var total int64
	for start := 0; start < len(keys); start += 1000 {
		end := min(start+1000, len(keys))
		cmds := make([]*redis.IntCmd, 0, end-start)
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys[start:end] {
				cmds = append(cmds, p.MemoryUsage(ctx, k, 0))
			}
			return nil
		})
		if err != nil && err != redis.Nil {
			return 0, err
		}
		for _, c := range cmds {
			n, err := c.Result()
			if err == redis.Nil {
				continue
			}
			if err != nil {
				return 0, err
			}
			total += n
		}
	}
	return total, nil
}
