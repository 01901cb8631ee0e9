package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/ops"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The shell's own identities in the fake workspace.
const (
	selfUser        = "U0SHELL"
	selfUserName    = "you"
	homeChannel     = "C0SANDBOX"
	homeChannelName = "sandbox"
)

const (
	// defaultDrain bounds how long end of input waits for the jobs
	// started in the session to end and their replies to be printed (a
	// sandbox job takes about 20 s).
	defaultDrain = 30 * time.Second
	// connectTimeout bounds the wait for the bot's first connection.
	connectTimeout = 30 * time.Second
	// redisPrefix is the Redis key prefix in a real Redis unless
	// REDIS_PREFIX says otherwise: the shell must not share the outbox and
	// the polling lease of a real bot using the same Redis.
	redisPrefix = "runjob-shell:"
)

// Options let tests run the shell faster; the zero value, with the
// build's Version, is what `runjob-bot shell` uses.
type Options struct {
	// Version is the build's version, as serve reports it; "" means "dev".
	Version string

	// lifecycle of the sandbox's jobs; nil means sandboxLifecycle().
	lifecycle *xplentytest.Lifecycle
	// pollInterval overrides POLL_INTERVAL (default 1 s).
	pollInterval time.Duration
	// drain bounds the wait at end of input; 0 means defaultDrain.
	drain time.Duration
	// formWait, when set, bounds every wait for the bot's answers in a
	// form instead of formAckWait and formUpdateWait.
	formWait time.Duration
	// onSandbox, when set, is given the in-process Xplenty once it runs, so
	// a test can look at or change its jobs.
	onSandbox func(*xplentytest.Server)
}

// sandboxLifecycle is how sandbox jobs move: idle ~1 s, pending ~2 s,
// running 14 s with progress rising, and about one in five fails half-way
// with a realistic error. Which ones fail changes from run to run.
func sandboxLifecycle() *xplentytest.Lifecycle {
	return &xplentytest.Lifecycle{
		Pending: time.Second, Running: 2 * time.Second, RunTime: 14 * time.Second,
		StopDelay: 2 * time.Second, FailureRate: 0.2, Seed: time.Now().UnixNano(),
	}
}

const usage = `runjob-bot shell: a terminal chat with the runjob bot.

It runs the real bot against an in-process Slack. Type /runjob commands as in
Slack; :help lists the shell's own commands. Input may be piped; at the end of
input the shell waits (up to 30 s) for the jobs it started to end.

Environment (all optional):
  XPLENTY_ACCOUNT_ID, XPLENTY_API_KEY  use the real Xplenty API (XPLENTY_API_URL)
                                       instead of the in-process sandbox
  REDIS_URL                            use this Redis (keys under REDIS_PREFIX,
                                       default runjob-shell:) instead of the
                                       embedded one; REDIS_MODE=sentinel reads
                                       it as a list of sentinels (see serve)
  ALLOWED_USERS, ALLOWED_CHANNELS      the allowlist (default *)
  POLL_INTERVAL                        how often jobs are polled (default 1s)
  LOG_LEVEL                            the bot's log level on stderr (default warn)
`

// Run is `runjob-bot shell`: args are what follows "shell" (only -h is
// known), and opts is zero but for tests and the version.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts Options) error {
	if len(args) > 0 {
		switch a := args[0]; a {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usage)
			return nil
		default:
			return fmt.Errorf("shell: unexpected argument %q (the shell is configured by the environment; see runjob-bot shell -h)", a)
		}
	}
	set, err := settings(os.Getenv, opts)
	if err != nil {
		return fmt.Errorf("shell configuration:\n%w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: set.cfg.LogLevel}))

	fake := slacktest.New(slacktest.Options{})
	defer fake.Close()
	fake.SetUserName(selfUser, selfUserName)
	cfg := set.cfg
	cfg.SlackAppToken, cfg.SlackBotToken, cfg.SlackAPIURL = fake.AppToken(), fake.BotToken(), fake.APIURL()

	if set.sandbox {
		lc := opts.lifecycle
		if lc == nil {
			lc = sandboxLifecycle()
		}
		sb := xplentytest.New(xplentytest.Options{Lifecycle: lc})
		defer sb.Close()
		cfg.XplentyURL, cfg.XplentyAccountID, cfg.XplentyAPIKey = sb.URL(), sb.AccountID(), sb.APIKey()
		if opts.onSandbox != nil {
			opts.onSandbox(sb)
		}
	}

	var rdb redis.UniversalClient
	if set.embedded {
		mr := miniredis.NewMiniRedis()
		mr.ClockTTL(true) // leases and dedupe windows expire, as in Redis
		defer mr.Close()
		c := redis.NewClient(&redis.Options{
			// No listener, no port: connections are in-memory pipes.
			Dialer: func(context.Context, string, string) (net.Conn, error) { return mr.Dial() },
		})
		defer c.Close()
		rdb = c
	}

	con := newConsole(stdin, stdout)
	sh := &chat{fake: fake, con: con, formWait: opts.formWait, user: selfUser, channel: homeChannel}
	// One secret rule for the echo and the bot: the one app.Serve builds from
	// SECRET_PATTERN and the policy file, handed to it below. With a bad
	// policy file (app.Serve reports it and stops) the pattern alone masks.
	if _, secrets, err := app.LoadPolicy(cfg); err == nil {
		sh.secrets = secrets
	} else if sh.secrets, err = policy.NewSecrets(cfg.SecretPattern, nil); err != nil {
		return err // checked by settings
	}
	sh.text = renderer{userName: userLabel, channelName: channelLabel}
	con.prompt = sh.prompt

	ready := make(chan struct{})
	var readyOnce sync.Once
	d := app.Deps{
		Version: opts.Version, Logger: log, RDB: rdb, Secrets: sh.secrets,
		Ready: func() { readyOnce.Do(func() { close(ready) }) },
		Hooks: ops.Hooks{
			Command: func(string, bot.Outcome) { sh.handled.Add(1) },
			Delivered: func(kind string, id int64, status xplenty.Status) {
				// A reply posted, sent as a direct message, or left out by
				// the channel's notify settings: dealt with for good.
				if kind != "card" && status.Terminal() {
					sh.replied(id)
				}
			},
		},
		// The terminal has no Slack rate limits.
		ChannelRate: rate.Inf, ChannelBurst: 1000, UpdateRate: rate.Inf,
	}

	botCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	served := make(chan error, 1)
	go func() { served <- app.Serve(botCtx, cfg, d) }()

	timeout := time.NewTimer(connectTimeout)
	defer timeout.Stop()
	select {
	case <-ready:
		// slack-go reports the connection a moment before the fake has
		// registered it; commands sent in between would find no socket.
		cctx, cancel := context.WithTimeout(ctx, connectTimeout)
		err := fake.WaitConnections(cctx, 1)
		cancel()
		if err != nil {
			stopBot()
			<-served
			return fmt.Errorf("shell: the bot did not connect to the in-process Slack: %w", err)
		}
	case err := <-served:
		if err == nil {
			err = errors.New("the bot stopped before it connected")
		}
		return fmt.Errorf("shell: %w", err)
	case <-ctx.Done():
		stopBot()
		return <-served
	case <-timeout.C:
		stopBot()
		<-served
		return errors.New("shell: the bot did not connect to the in-process Slack within 30 s (see the log on stderr)")
	}

	con.println(sh.banner(set))

	pr := &printer{sh: sh, seen: map[string]int{}, last: map[string]string{}}
	pctx, stopPrinter := context.WithCancel(context.Background())
	printed := make(chan struct{})
	go func() { defer close(printed); pr.run(pctx) }()

	drain := opts.drain
	if drain <= 0 {
		drain = defaultDrain
	}
	var runErr error
	lines := con.readLines()
loop:
	for {
		con.showPrompt()
		select {
		case <-ctx.Done():
			break loop
		case err := <-served:
			// The bot stopped on its own: nothing left to talk to.
			served <- err
			if err == nil {
				err = errors.New("the bot stopped")
			}
			runErr = fmt.Errorf("shell: %w", err)
			break loop
		case line, ok := <-lines:
			con.inputRead()
			if !ok {
				if err := con.readErr(); err != nil {
					runErr = fmt.Errorf("shell: read input: %w", err)
				}
				sh.drain(ctx, drain)
				break loop
			}
			if sh.handle(ctx, line) {
				break loop
			}
		}
	}

	stopBot()
	if err := <-served; err != nil && runErr == nil {
		runErr = err
	}
	stopPrinter()
	<-printed
	pr.render(fake.Snapshot()) // whatever the bot posted while finishing
	con.done()
	return runErr
}
