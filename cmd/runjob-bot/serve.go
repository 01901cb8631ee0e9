package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"golang.org/x/time/rate"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/xplenty"
)

// The process must be gone within 10 s of SIGTERM (Kubernetes' default
// grace period is 30 s): shutdownGrace for the commands in flight,
// drainLimit for the deliverers to send what they queued, and the rest for
// the watcher and the deliverer to finish their current step (an outbox
// read blocks at most 1 s; Redis calls then have 2 s). Work cut off is not
// lost: launches are recovered (RecoverLaunches) and the outbox persists.
const (
	shutdownGrace = 5 * time.Second
	drainLimit    = 2 * time.Second
)

// deps are what serve is given instead of building it from the
// configuration: the shell passes its embedded Redis; tests and benchmarks
// tune the pacing and observe what happens. The zero value is production.
type deps struct {
	logger *slog.Logger
	// rdb, when set, is used instead of a client of cfg.Redis.
	rdb redis.UniversalClient
	// secrets, when set, is the secret-name rule to use instead of building
	// one (the shell builds it once, to mask its own echo with it too).
	secrets *policy.Secrets
	// hooks observe commands, calls and deliveries (metrics).
	hooks hooks
	// ready, when set, is told once the bot is connected to Slack.
	ready func()

	// channelRate and channelBurst, when set, replace the chat.postMessage
	// budget of each channel; updateRate (per second) the chat.update one.
	channelRate  rate.Limit
	channelBurst int
	updateRate   rate.Limit
	claimIdle    time.Duration
	httpClient   *http.Client
}

// hooks are the observation points the metrics use; nil fields are skipped.
type hooks struct {
	command   func(kind, result string)
	xplenty   func(method, route string, status int, d time.Duration)
	slackCall func(method, code string)
	tick      func(notifier.TickStats)
	delivered func(kind string, jobID int64, status xplenty.Status)
	// panicked is told where a panic was recovered: "envelope", "tick" or
	// "delivery".
	panicked func(where string)
}

// panicAt returns the hook that reports a recovered panic at where; nil
// when nothing observes panics.
func (h hooks) panicAt(where string) func() {
	if h.panicked == nil {
		return nil
	}
	return func() { h.panicked(where) }
}

// serve runs the bot on Slack until ctx ends.
func serve(ctx context.Context, cfg config.Config, d deps) error {
	log := d.logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	pol, secrets, err := loadPolicy(cfg)
	if err != nil {
		return err
	}
	if d.secrets != nil {
		secrets = d.secrets
	}
	users, channels, err := config.Allowlists(cfg.AllowedUsers, cfg.AllowedChannels, cfg.PolicyFile, pol.HasRules())
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	access, err := bot.ParseAllowlist(users, channels)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}

	rdb := d.rdb
	if rdb == nil {
		opts := *cfg.Redis
		opts.ContextTimeoutEnabled = true // a cancelled context ends a blocking read at once
		c := redis.NewClient(&opts)
		defer c.Close()
		rdb = c
	}
	// Secret variables are encrypted in Redis (RUNJOB_SECRET_KEY, else the
	// Xplenty API key): a copy of the database alone does not reveal them.
	// A value sealed with a key that is no longer configured is lost; Re-run
	// of such a job then says so.
	current, previous, legacy := cfg.SealingKeys()
	store, err := notifier.NewStore(rdb, notifier.StoreOptions{
		Prefix: cfg.RedisPrefix, Retention: cfg.Retention,
		SecretKey: current, PreviousSecretKey: previous, LegacySecretKey: legacy,
	})
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = store.Ping(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("redis does not answer: %w", err)
	}

	var m *metrics
	if cfg.HTTPAddr != "" {
		m = newMetrics()
		d.hooks = withHooks(d.hooks, m.hooks())
	}

	httpClient := d.httpClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	xp, err := xplenty.New(xplenty.Config{
		BaseURL: cfg.XplentyURL, AccountID: cfg.XplentyAccountID, APIKey: cfg.XplentyAPIKey,
		HTTPClient: httpClient, UserAgent: "runjob/" + version, OnResponse: d.hooks.xplenty,
	})
	if err != nil {
		return fmt.Errorf("xplenty client: %w", err)
	}

	api := slack.New(cfg.SlackBotToken,
		slack.OptionAPIURL(cfg.SlackAPIURL),
		slack.OptionAppLevelToken(cfg.SlackAppToken),
		slack.OptionHTTPClient(httpClient))
	sm := socketmode.New(api)
	replica := replicaName()
	poster := notifier.NewPoster(api, notifier.PosterOptions{
		Logger: log, OnCall: d.hooks.slackCall, Budgets: slackBudgets(store, cfg, d),
	})
	b, err := bot.New(bot.Config{
		Logger: log, Slack: api, Poster: poster, Store: store, Xplenty: xp, Access: access,
		Policy: pol, Secrets: secrets, HTTPClient: httpClient, OnCommand: d.hooks.command,
		OnPanic: d.hooks.panicAt("envelope"),
	})
	if err != nil {
		return err
	}
	socket := bot.NewSocketMode(b, sm)
	socket.OnConnected = d.ready
	if m != nil {
		m.observeRateLimit(xp.RateLimit)
		m.observeQueues(store.Queues)
		// Serves until serve returns: during the drain /readyz says 503
		// (Slack is disconnected) and /metrics can still be scraped.
		opsCtx, stopOps := context.WithCancel(context.WithoutCancel(ctx))
		_, waitOps, err := serveOps(opsCtx, cfg.HTTPAddr, opsHandler(m, readiness{slack: socket.Connected, redis: store.Ping}), log)
		if err != nil {
			stopOps()
			return fmt.Errorf("HTTP_ADDR: %w", err)
		}
		defer func() { stopOps(); _ = waitOps() }()
	}
	watcher := notifier.NewWatcher(store, xp, notifier.WatcherOptions{
		Logger: log, Interval: cfg.PollInterval, Holder: replica, OnTick: d.hooks.tick,
		OnPanic: d.hooks.panicAt("tick"),
	})
	deliverer := notifier.NewDeliverer(store, poster, notifier.DelivererOptions{
		Logger: log, Consumer: replica, ClaimIdle: d.claimIdle, OnDelivered: d.hooks.delivered,
		OnPanic: d.hooks.panicAt("delivery"),
	})

	// The watcher and the deliverer run until shutdown is complete, so
	// that messages for work finished during the grace period still go out.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); _ = watcher.Run(bg) }()
	go func() { defer wg.Done(); _ = deliverer.Run(bg) }()
	go func() { defer wg.Done(); recoverLaunches(bg, b) }()

	log.Info("runjob-bot starting", "version", version, "replica", replica, "poll_interval", cfg.PollInterval.String())
	runErr := socket.Run(ctx)

	log.Info("shutting down: no new commands; finishing work in flight")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	shutErr := b.Shutdown(sctx)
	// Let the deliverers send what the last commands queued (their cards),
	// briefly; whatever is left stays in the outbox for the next replica.
	drainOutbox(context.WithoutCancel(ctx), store, deliverer, drainLimit)
	stopBG()
	wg.Wait()
	if runErr != nil {
		return fmt.Errorf("slack: %w", runErr)
	}
	if shutErr != nil {
		log.Warn("shutdown incomplete", "err", shutErr)
	}
	log.Info("stopped")
	return nil
}

// slackBudgets are Slack's limits, shared by the replicas through Redis.
func slackBudgets(store *notifier.Store, cfg config.Config, d deps) *notifier.Budgets {
	post := notifier.Rate{N: notifier.DefaultPostPerSecond, Per: time.Second, Burst: notifier.DefaultPostBurst}
	if d.channelRate != 0 {
		post = notifier.Rate{N: float64(d.channelRate), Per: time.Second, Burst: max(d.channelBurst, 1)}
	}
	perMinute := cfg.UpdatePerMinute
	if perMinute <= 0 {
		perMinute = notifier.DefaultUpdatePerMinute
	}
	update := notifier.Rate{N: perMinute, Per: time.Minute, Burst: notifier.DefaultUpdateBurst}
	if d.updateRate != 0 {
		update = notifier.Rate{N: float64(d.updateRate), Per: time.Second, Burst: notifier.DefaultUpdateBurst}
	}
	return notifier.NewBudgets(store, post, update)
}

// replicaName tells replicas apart in Redis (consumer group, lease).
func replicaName() string {
	host, _ := os.Hostname()
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
}

// loadPolicy reads the policy file, if any, and compiles the secret-name
// rule: the file's secret_pattern when it sets one, else SECRET_PATTERN,
// plus the names the file lists.
func loadPolicy(cfg config.Config) (*policy.Policy, *policy.Secrets, error) {
	var pol *policy.Policy
	if cfg.PolicyFile != "" {
		var err error
		if pol, err = policy.Load(cfg.PolicyFile); err != nil {
			return nil, nil, fmt.Errorf("policy: %w", err)
		}
	}
	pattern := cfg.SecretPattern
	if p := pol.SecretPattern(); p != policy.DefaultSecretPattern {
		pattern = p
	}
	secrets, err := policy.NewSecrets(pattern, pol.SecretVariables())
	if err != nil {
		return nil, nil, fmt.Errorf("SECRET_PATTERN: %w", err)
	}
	return pol, secrets, nil
}

// recoverLaunches resolves, every minute, launches cut short by a process
// that died between posting a card and tracking its job.
func recoverLaunches(ctx context.Context, b *bot.Bot) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		b.RecoverLaunches(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drainOutbox waits until no reply and no due card edit waits and the
// deliverer is not in the middle of a card edit, at most limit.
func drainOutbox(ctx context.Context, store *notifier.Store, d *notifier.Deliverer, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		if q, err := store.Queues(ctx); err != nil || (q.Replies+q.CardsDue == 0 && !d.EditingCard()) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}
