// Package bot is runjob's Slack side: it takes /runjob commands and button
// clicks from Socket Mode (socket.go), acknowledges them at once, and runs
// each through one pipeline (pipeline.go): claim the event, check the
// allowlist, parse, ask the policy, ask the runner to confirm a protected
// run, execute, then record the act in the audit trail and answer the
// person. Everything that must survive a restart lives in Redis (package
// notifier/store); the bot itself only holds the goroutines of commands in
// flight.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// Xplenty is the part of the Xplenty API the bot calls.
// *xplenty.Client implements it.
type Xplenty interface {
	RunJob(ctx context.Context, req xplenty.RunRequest) (*xplenty.Job, error)
	GetJob(ctx context.Context, id int64) (*xplenty.Job, error)
	StopJob(ctx context.Context, id int64) (*xplenty.Job, error)
	ListJobs(ctx context.Context, opts xplenty.ListOptions) (*xplenty.JobPage, error)
	JobLog(ctx context.Context, id int64) (*xplenty.JobLog, error)
	JobsPageURL() string
}

var _ Xplenty = (*xplenty.Client)(nil)

// Config holds a Bot's dependencies.
type Config struct {
	Logger *slog.Logger
	// Poster is every Slack write and read of the bot (cards, notes,
	// answers to one person, user groups): one paced, retried, counted path.
	Poster  *deliver.Poster
	Store   *store.Store
	Xplenty Xplenty
	Access  Access
	// Catalog resolves package and cluster names and names ids in
	// messages; nil: runs by id only.
	Catalog Catalog
	// Policy holds presets, rules and protected targets; nil is no policy.
	Policy *policy.Policy
	// Secrets says which variables are secret; nil is the default pattern.
	Secrets *policy.Secrets
	// HandlerTimeout bounds the work of one command or click. Default 60 s.
	HandlerTimeout time.Duration
	// OnCommand, when set, is told the outcome of every command and click
	// (Started, Denied, Invalid, Refused, Duplicate, ...).
	OnCommand func(kind string, o Outcome)
	// OnPanic, when set, is told of each envelope whose handling panicked
	// (and was recovered; the bot carries on).
	OnPanic func()
}

// Bot handles commands and clicks.
type Bot struct {
	cfg     Config
	holder  string // names this replica in locks
	log     *slog.Logger
	secrets *policy.Secrets
	groups  *groupCache
	clicks  map[string]clickHandler // by action id
	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool
}

// New returns a Bot; it fails when a dependency is missing.
func New(cfg Config) (*Bot, error) {
	var missing []string
	if cfg.Poster == nil {
		missing = append(missing, "Poster")
	}
	if cfg.Store == nil {
		missing = append(missing, "Store")
	}
	if cfg.Xplenty == nil {
		missing = append(missing, "Xplenty")
	}
	if cfg.Access == nil {
		missing = append(missing, "Access")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("bot: missing %v", missing)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HandlerTimeout <= 0 {
		cfg.HandlerTimeout = 60 * time.Second
	}
	if cfg.OnCommand == nil {
		cfg.OnCommand = func(string, Outcome) {}
	}
	secrets := cfg.Secrets
	if secrets == nil {
		var err error
		if secrets, err = policy.NewSecrets("", cfg.Policy.SecretVariables()); err != nil {
			return nil, fmt.Errorf("bot: %w", err)
		}
	}
	b := &Bot{cfg: cfg, log: cfg.Logger, secrets: secrets,
		holder: "bot-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		groups: &groupCache{api: cfg.Poster, now: time.Now, m: map[string]groupEntry{}}}
	b.clicks = b.clickHandlers()
	return b, nil
}

// errClosed is returned by Go after Shutdown began.
var errClosed = errors.New("bot is shutting down")

// Go runs fn in a goroutine the bot tracks, so Shutdown can wait for it.
// fn gets a context that outlives the caller's (the envelope was acked;
// the work must finish) but not HandlerTimeout.
func (b *Bot) Go(ctx context.Context, fn func(ctx context.Context)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer b.recoverEnvelope()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.HandlerTimeout)
		defer cancel()
		fn(ctx)
	}()
	return nil
}

// Shutdown stops taking work and waits for the work in flight, or for ctx.
func (b *Bot) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shutdown: work still in flight: %w", ctx.Err())
	}
}
