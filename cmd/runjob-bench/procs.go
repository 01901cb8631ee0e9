package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildBot compiles ./cmd/runjob-bot into dir, so that every replica is the
// real binary, measured as a process of its own.
func buildBot(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the bench from the runjob module (go run ./cmd/runjob-bench)")
	}
	bin := filepath.Join(dir, "runjob-bot")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/runjob-bot")
	cmd.Dir = filepath.Dir(mod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/runjob-bot: %v\n%s", err, out)
	}
	return bin, nil
}

// replica is one bot process.
type replica struct {
	cmd    *exec.Cmd
	http   string // its ops address (/readyz)
	stderr *lockedWriter
	done   chan struct{}
	err    error

	steadyRSSKB int64 // VmRSS when the steady phase ended (markSteady)
}

// startReplica runs bin with env plus its own HTTP_ADDR.
func startReplica(bin string, env []string) (*replica, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &replica{http: "127.0.0.1:" + strconv.Itoa(port), stderr: &lockedWriter{w: &bytes.Buffer{}}, done: make(chan struct{})}
	r.cmd = exec.Command(bin)
	r.cmd.Env = append(append(os.Environ()[:0:0], env...), "HTTP_ADDR="+r.http)
	r.cmd.Stderr = r.stderr
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	return r, nil
}

// waitReady waits for /readyz to answer 200.
func (r *replica) waitReady(ctx context.Context) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.http+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-r.done:
			return fmt.Errorf("replica exited before it was ready: %v\n%s", r.err, r.logTail())
		case <-ctx.Done():
			return fmt.Errorf("replica not ready: %w\n%s", ctx.Err(), r.logTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// markSteady records the resident memory now, as the steady-state figure.
func (r *replica) markSteady() {
	if rss, _, err := procMemory(r.cmd.Process.Pid); err == nil {
		r.steadyRSSKB = rss
	}
}

// memory is the steady-state VmRSS and the peak so far: VmHWM, which the
// kernel keeps, so no sampling is needed. Read it before the process ends.
func (r *replica) memory() (steady, peak int64) {
	_, hwm, _ := procMemory(r.cmd.Process.Pid)
	return r.steadyRSSKB, hwm
}

// stop sends SIGTERM and waits for the exit; it returns the exit error.
func (r *replica) stop() error {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
		return errors.New("did not stop within 20 s of SIGTERM")
	}
	return r.err
}

func (r *replica) logTail() string {
	s := r.stderr.String()
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return s
}

// procMemory reads VmRSS and VmHWM (kB) from /proc.
func procMemory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, sc.Err()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
