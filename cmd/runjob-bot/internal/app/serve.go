package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"golang.org/x/time/rate"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/bot/catalog"
	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/ops"
	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/store"
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

// Deps are what Serve is given instead of building it from the
// configuration: the shell passes its embedded Redis; tests and benchmarks
// tune the pacing and observe what happens. The zero value is production.
type Deps struct {
	Logger *slog.Logger
	// Version is the build's version (the Xplenty user agent, the log, the
	// metrics); "" means "dev".
	Version string
	// RDB, when set, is used instead of a client of cfg.Redis.
	RDB redis.UniversalClient
	// Secrets, when set, is the secret-name rule to use instead of building
	// one (the shell builds it once, to mask its own echo with it too).
	Secrets *policy.Secrets
	// Hooks observe commands, calls and deliveries (metrics).
	Hooks ops.Hooks
	// Ready, when set, is told once the bot is connected to Slack.
	Ready func()
	// OpsListening, when set, is told the address the ops endpoint
	// listens on (HTTP_ADDR, e.g. 127.0.0.1:0 in tests), before Ready.
	OpsListening func(net.Addr)

	// ChannelRate and ChannelBurst, when set, replace the chat.postMessage
	// budget of each channel; UpdateRate (per second) the chat.update one.
	ChannelRate  rate.Limit
	ChannelBurst int
	UpdateRate   rate.Limit
	ClaimIdle    time.Duration
	HTTPClient   *http.Client
}

// Serve runs the bot on Slack until ctx ends: the Socket Mode connection,
// the watcher, the deliverer, the recovery of cut-short launches and, when
// cfg.HTTPAddr is set, the ops endpoint; then it shuts them down in order.
func Serve(ctx context.Context, cfg config.Config, d Deps) error {
	version := d.Version
	if version == "" {
		version = "dev"
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	pol, secrets, err := LoadPolicy(cfg)
	if err != nil {
		return err
	}
	if d.Secrets != nil {
		secrets = d.Secrets
	}
	users, channels, err := config.Allowlists(cfg.AllowedUsers, cfg.AllowedChannels, cfg.PolicyFile, pol.HasRules())
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	access, err := bot.ParseAllowlist(users, channels)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}

	rdb := d.RDB
	if rdb == nil {
		c, err := NewRedis(cfg.Redis)
		if err != nil {
			return err
		}
		defer c.Close()
		rdb = c
	}
	// Secret variables are encrypted in Redis (RUNJOB_SECRET_KEY, else the
	// Xplenty API key): a copy of the database alone does not reveal them.
	// A value sealed with a key that is no longer configured is lost; Re-run
	// of such a job then says so.
	current, previous, legacy := cfg.SealingKeys()
	var m *ops.Metrics
	if cfg.HTTPAddr != "" {
		m = ops.NewMetrics(version)
		d.Hooks = ops.WithHooks(d.Hooks, m.Hooks())
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	wait, err := replicaWait(pctx, log, cfg.Redis, rdb, cfg.RedisPrefix)
	cancel()
	if err != nil {
		return fmt.Errorf("redis does not answer: %w", err)
	}
	store, err := store.New(rdb, store.Options{
		Prefix: cfg.RedisPrefix, Retention: cfg.Retention,
		SecretKey: current, PreviousSecretKey: previous, LegacySecretKey: legacy,
		ReplicaWait: wait, OnUnreplicated: unreplicated(log, d.Hooks.Unreplicated),
	})
	if err != nil {
		return err
	}
	pctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	err = store.Ping(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("redis does not answer: %w", err)
	}

	httpClient := d.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	xp, err := xplenty.New(xplenty.Config{
		BaseURL: cfg.XplentyURL, AccountID: cfg.XplentyAccountID, APIKey: cfg.XplentyAPIKey,
		HTTPClient: httpClient, UserAgent: "runjob/" + version, OnResponse: d.Hooks.Xplenty,
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
	poster := deliver.NewPoster(api, deliver.PosterOptions{
		Logger: log, OnCall: d.Hooks.SlackCall, Budgets: slackBudgets(store, cfg, d), HTTPClient: httpClient,
	})
	cat, err := catalog.New(store, xp, catalog.Options{})
	if err != nil {
		return err
	}
	b, err := bot.New(bot.Config{
		Logger: log, Poster: poster, Store: store, Xplenty: xp, Access: access, Catalog: cat,
		Policy: pol, Secrets: secrets, OnCommand: d.Hooks.Command,
		OnPanic: d.Hooks.PanicAt("envelope"),
	})
	if err != nil {
		return err
	}
	socket := bot.NewSocketMode(b, sm)
	socket.OnConnected = d.Ready
	if m != nil {
		m.ObserveRateLimit(xp.RateLimit)
		m.ObserveQueues(store.Queues)
		// Serves until Serve returns: during the drain /readyz says 503
		// (Slack is disconnected) and /metrics can still be scraped.
		opsCtx, stopOps := context.WithCancel(context.WithoutCancel(ctx))
		var hook *ops.XplentyHook
		if cfg.HookAuth.On() {
			// Any replica may receive a hook; the wake-up goes through
			// Redis to the one that polls.
			hook = &ops.XplentyHook{User: cfg.HookAuth.User, Password: cfg.HookAuth.Password, Wake: store.Wake, Logger: log}
		}
		bound, waitOps, err := ops.Serve(opsCtx, cfg.HTTPAddr, ops.Handler(m, ops.Readiness{Slack: socket.Connected, Redis: store.Ping}, hook), log)
		if err != nil {
			stopOps()
			return fmt.Errorf("HTTP_ADDR: %w", err)
		}
		defer func() { stopOps(); _ = waitOps() }()
		if d.OpsListening != nil {
			d.OpsListening(bound)
		}
	}
	watcher := notifier.NewWatcher(store, xp, notifier.WatcherOptions{
		Logger: log, Interval: cfg.PollInterval, Holder: replica, OnTick: d.Hooks.Tick,
		OnPanic:        d.Hooks.PanicAt("tick"),
		Watchdog:       notifier.WatchdogOptions{QueuedAfter: cfg.WatchdogQueuedAfter, StoppingAfter: cfg.WatchdogStoppingAfter},
		ListenForWakes: cfg.HookAuth.On(),
	})
	deliverer := deliver.NewDeliverer(store, poster, deliver.DelivererOptions{
		Logger: log, Consumer: replica, ClaimIdle: d.ClaimIdle, OnDelivered: d.Hooks.Delivered,
		OnPanic: d.Hooks.PanicAt("delivery"),
	})

	// The watcher and the deliverer run until shutdown is complete, so
	// that messages for work finished during the grace period still go out.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); warmCatalog(ctx, cat, log) }()
	go func() { defer wg.Done(); _ = watcher.Run(bg) }()
	go func() { defer wg.Done(); _ = deliverer.Run(bg) }()
	go func() { defer wg.Done(); recoverLaunches(bg, b) }()

	log.Info("runjob-bot starting", "version", version, "replica", replica, "poll_interval", cfg.PollInterval.String(),
		"xplenty_hooks", cfg.HookAuth.On())
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

// warmCatalog reads the package and cluster lists once at start, so that
// the first command finds them (another replica may have them in Redis
// already; then this costs no call to Xplenty).
func warmCatalog(ctx context.Context, cat *catalog.Catalog, log *slog.Logger) {
	if l := cat.Packages(ctx); !l.Known() {
		log.Warn("could not read the packages at start; names resolve once Xplenty answers", "err", l.Err)
	}
	if l := cat.Clusters(ctx); !l.Known() {
		log.Warn("could not read the clusters at start; names resolve once Xplenty answers", "err", l.Err)
	}
}
