package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/ops"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The shell runs the real bot (serve, unchanged) against an in-process fake
// Slack: the bot connects over Socket Mode as in production, the shell types
// slash commands and clicks buttons through the fake, and prints what the
// bot posts there. Xplenty is an in-process sandbox unless
// XPLENTY_ACCOUNT_ID and XPLENTY_API_KEY are set; Redis is an embedded
// miniredis unless REDIS_URL is set. There is one code path: only the ends
// are swapped.

// The shell's own identities in the fake workspace.
const (
	shellUser        = "U0SHELL"
	shellUserName    = "you"
	shellChannel     = "C0SANDBOX"
	shellChannelName = "sandbox"
)

const (
	// defaultShellDrain bounds how long end of input waits for the jobs
	// started in the session to end and their replies to be printed (a
	// sandbox job takes about 20 s).
	defaultShellDrain = 30 * time.Second
	// shellConnectTimeout bounds the wait for the bot's first connection.
	shellConnectTimeout = 30 * time.Second
	// shellPrefix is the Redis key prefix in a real Redis unless
	// REDIS_PREFIX says otherwise: the shell must not share the outbox and
	// the polling lease of a real bot using the same Redis.
	shellPrefix = "runjob-shell:"
)

// shellOptions let tests run the shell faster; the zero value is what
// `runjob-bot shell` uses.
type shellOptions struct {
	// lifecycle of the sandbox's jobs; nil means sandboxLifecycle().
	lifecycle *xplentytest.Lifecycle
	// pollInterval overrides POLL_INTERVAL (default 1 s).
	pollInterval time.Duration
	// drain bounds the wait at end of input; 0 means defaultShellDrain.
	drain time.Duration
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

// runShell is the terminal chat mode.
func runShell(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runShellWith(ctx, args, stdin, stdout, stderr, shellOptions{})
}

const shellUsage = `runjob-bot shell: a terminal chat with the runjob bot.

It runs the real bot against an in-process Slack. Type /runjob commands as in
Slack; :help lists the shell's own commands. Input may be piped; at the end of
input the shell waits (up to 30 s) for the jobs it started to end.

Environment (all optional):
  XPLENTY_ACCOUNT_ID, XPLENTY_API_KEY  use the real Xplenty API (XPLENTY_API_URL)
                                       instead of the in-process sandbox
  REDIS_URL                            use this Redis (keys under REDIS_PREFIX,
                                       default runjob-shell:) instead of the
                                       embedded one
  ALLOWED_USERS, ALLOWED_CHANNELS      the allowlist (default *)
  POLL_INTERVAL                        how often jobs are polled (default 1s)
  LOG_LEVEL                            the bot's log level on stderr (default warn)
`

// runShellWith is runShell with test options.
func runShellWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts shellOptions) error {
	if len(args) > 0 {
		switch a := args[0]; a {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, shellUsage)
			return nil
		default:
			return fmt.Errorf("shell: unexpected argument %q (the shell is configured by the environment; see runjob-bot shell -h)", a)
		}
	}
	set, err := shellSettings(os.Getenv, opts)
	if err != nil {
		return fmt.Errorf("shell configuration:\n%w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: set.cfg.LogLevel}))

	fake := slacktest.New(slacktest.Options{})
	defer fake.Close()
	fake.SetUserName(shellUser, shellUserName)
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

	con := newShellConsole(stdin, stdout)
	sh := &shell{fake: fake, con: con, user: shellUser, channel: shellChannel}
	// One secret rule for the echo and the bot: the one serve builds from
	// SECRET_PATTERN and the policy file, handed to serve below. With a bad
	// policy file (serve reports it and stops) the pattern alone masks.
	if _, secrets, err := app.LoadPolicy(cfg); err == nil {
		sh.secrets = secrets
	} else if sh.secrets, err = policy.NewSecrets(cfg.SecretPattern, nil); err != nil {
		return err // checked by shellSettings
	}
	sh.text = shellText{userName: shellUserLabel, channelName: shellChannelLabel}
	con.prompt = sh.prompt

	ready := make(chan struct{})
	var readyOnce sync.Once
	d := app.Deps{
		Logger: log, RDB: rdb, Secrets: sh.secrets,
		Ready: func() { readyOnce.Do(func() { close(ready) }) },
		Hooks: ops.Hooks{
			Command: func(string, string) { sh.handled.Add(1) },
			Delivered: func(kind string, id int64, status xplenty.Status) {
				if kind == "reply" && status.Terminal() {
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

	timeout := time.NewTimer(shellConnectTimeout)
	defer timeout.Stop()
	select {
	case <-ready:
		// slack-go reports the connection a moment before the fake has
		// registered it; commands sent in between would find no socket.
		cctx, cancel := context.WithTimeout(ctx, shellConnectTimeout)
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

	pr := &shellPrinter{sh: sh, seen: map[string]int{}, last: map[string]string{}}
	pctx, stopPrinter := context.WithCancel(context.Background())
	printed := make(chan struct{})
	go func() { defer close(printed); pr.run(pctx) }()

	drain := opts.drain
	if drain <= 0 {
		drain = defaultShellDrain
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

// shellSetup is the shell's configuration before the in-process services
// are started.
type shellSetup struct {
	cfg      config.Config
	sandbox  bool // Xplenty is the in-process sandbox
	embedded bool // Redis is the embedded miniredis
}

// shellVars are the variables the shell honours; it leaves the others
// (the Slack tokens, HTTP_ADDR, RETENTION…) at its defaults.
var shellVars = []string{
	"XPLENTY_ACCOUNT_ID", "XPLENTY_API_KEY", "XPLENTY_API_URL", "REDIS_URL", "REDIS_PREFIX",
	"POLL_INTERVAL", "ALLOWED_USERS", "ALLOWED_CHANNELS", "SECRET_PATTERN", "LOG_LEVEL", "RUNJOB_POLICY",
}

// shellDefaults are the shell's defaults: serve's, except that jobs are
// polled every second, everyone may use the bot anywhere, and only
// warnings are logged. REDIS_PREFIX has none here: it depends on whether
// REDIS_URL is set (shellSettings).
func shellDefaults() config.Defaults {
	d := config.ServeDefaults()
	d["POLL_INTERVAL"] = "1s"
	d["ALLOWED_USERS"], d["ALLOWED_CHANNELS"] = "*", "*"
	d["LOG_LEVEL"] = "warn"
	delete(d, "REDIS_PREFIX")
	return d
}

// shellSettings reads the environment the shell honours (a variable set
// to blanks counts as not set). Unlike serve's, nothing is required; what
// is set is checked the same way, and every problem is reported at once.
func shellSettings(getenv func(string) string, opts shellOptions) (shellSetup, error) {
	e := config.Read(func(name string) (string, bool) {
		v := getenv(name)
		return v, slices.Contains(shellVars, name) && strings.TrimSpace(v) != ""
	}, shellDefaults())
	var errs []error
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s %s", name, why)) }
	s := shellSetup{cfg: config.Config{
		AllowedUsers: config.SplitList(e.AllowedUsers), AllowedChannels: config.SplitList(e.AllowedChannels),
		RedisPrefix: strings.TrimSpace(e.RedisPrefix), PolicyFile: strings.TrimSpace(e.PolicyFile),
		SecretPattern: e.SecretPattern,
	}}
	s.cfg.Retention = config.Duration("RETENTION", e.Retention, time.Hour, bad)

	acct, key := strings.TrimSpace(e.XplentyAccountID), strings.TrimSpace(e.XplentyAPIKey)
	switch {
	case acct == "" && key == "":
		s.sandbox = true
	case acct == "" || key == "":
		bad("XPLENTY_ACCOUNT_ID and XPLENTY_API_KEY", "must be set together (both for the real API, neither for the sandbox)")
	default:
		s.cfg.XplentyAccountID, s.cfg.XplentyAPIKey = acct, key
		var err error
		if s.cfg.XplentyURL, err = config.HTTPURL(e.XplentyAPIURL); err != nil {
			bad("XPLENTY_API_URL", err.Error())
		}
	}

	if u := strings.TrimSpace(e.RedisURL); u != "" {
		var err error
		if s.cfg.Redis, err = redis.ParseURL(u); err != nil {
			// The parser's own message may quote the URL, password and all.
			bad("REDIS_URL", "is not a valid redis:// or rediss:// URL (like redis://:password@host:6379/0)")
		}
		if s.cfg.RedisPrefix == "" {
			s.cfg.RedisPrefix = shellPrefix
		}
	} else {
		s.embedded = true
		if s.cfg.RedisPrefix == "" {
			s.cfg.RedisPrefix = config.ServeDefaults()["REDIS_PREFIX"]
		}
	}

	if opts.pollInterval > 0 {
		s.cfg.PollInterval = opts.pollInterval
	} else {
		s.cfg.PollInterval = config.Duration("POLL_INTERVAL", strings.TrimSpace(e.PollInterval), 100*time.Millisecond, bad)
	}
	if _, err := regexp.Compile(s.cfg.SecretPattern); err != nil {
		bad("SECRET_PATTERN", "is not a valid regular expression: "+err.Error())
	}
	if v := strings.TrimSpace(e.LogLevel); s.cfg.LogLevel.UnmarshalText([]byte(v)) != nil {
		bad("LOG_LEVEL", fmt.Sprintf("must be debug, info, warn or error (got %q)", v))
	}
	return s, errors.Join(errs...)
}

// userName is how the shell shows a user: "you" for the shell's user, else
// the id in lower case, as the fake Slack names users it was not told about.
func shellUserLabel(id string) string {
	if id == shellUser {
		return shellUserName
	}
	return strings.ToLower(id)
}

// channelName is how the shell shows a channel.
func shellChannelLabel(id string) string {
	if id == shellChannel {
		return shellChannelName
	}
	return strings.ToLower(id)
}

// shell is the chat: who types where, and what was sent to the bot.
type shell struct {
	fake *slacktest.Server
	con  *shellConsole
	text shellText
	// secrets names the variables whose values are not echoed: the bot's
	// own rule (SECRET_PATTERN and the policy file's lists), the same
	// object serve uses.
	secrets *policy.Secrets

	mu            sync.Mutex
	user, channel string

	// sent counts commands and clicks sent to the bot; handled those the
	// bot finished (its command hook), so end of input can wait for them.
	sent, handled atomic.Int64
	// ended holds the jobs whose final reply the bot has delivered and
	// recorded as delivered (its delivery hook): leaving earlier would
	// cut a delivery short and leave it to be retried.
	ended map[int64]bool
}

func (sh *shell) replied(id int64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.ended == nil {
		sh.ended = map[int64]bool{}
	}
	sh.ended[id] = true
}

func (sh *shell) where() (user, channel string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.user, sh.channel
}

func (sh *shell) prompt() string {
	u, c := sh.where()
	return shellUserLabel(u) + "@#" + shellChannelLabel(c) + "> "
}

func (sh *shell) banner(set shellSetup) string {
	xp := "Xplenty: the in-process sandbox (jobs end within about 20 s; some fail, as real ones do)."
	if !set.sandbox {
		xp = fmt.Sprintf("Xplenty: the REAL API at %s, account %s – jobs you start really run.", set.cfg.XplentyURL, set.cfg.XplentyAccountID)
	}
	store := "Store: embedded Redis (miniredis; forgotten on exit)."
	if !set.embedded {
		store = fmt.Sprintf("Store: Redis at %s (keys under %s).", set.cfg.Redis.Addr, set.cfg.RedisPrefix)
	}
	return "runjob shell – the real bot on a pretend Slack. " + xp + " " + store + "\n" +
		"You are @you (" + shellUser + ") in #" + shellChannelName + " (" + shellChannel + "). " +
		"Type slash commands as in Slack, :help for the shell's own (:rerun ID, :stop ID, :as USER, :in CHANNEL, :quit). Try:\n" +
		"  /runjob cluster=52 package=434 DATE=2026-11-01\n"
}

const shellHelp = `Shell commands:
  /runjob <text>    what you would type in Slack (/runjob help explains the grammar)
  :rerun [job id]   click Re-run on the job's card in this channel (default: the latest card)
  :stop [job id]    click Stop on the job's card and confirm (default: the latest card)
  :confirm, :cancel answer the bot's latest "confirm the run" question to you
  :as <user id>     act as another Slack user, e.g. :as U0EVE (:as you goes back)
  :in <channel id>  go to another channel, e.g. :in C0DATA (:in sandbox goes back)
  :jobs             list the job cards in this channel
  :help             this help
  :quit             leave at once (end of input leaves too, after the jobs it started end)
Lines starting with # are comments, for scripts piped into the shell.`

var (
	shellUserIDShape    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	shellChannelIDShape = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
)

// handle acts on one line of input; it reports whether to leave.
func (sh *shell) handle(ctx context.Context, line string) (quit bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") { // comments, for scripts
		return false
	}
	sh.con.echo(sh.prompt() + sh.maskSecrets(line))
	word, rest := shellSplitWord(line)
	switch word {
	case "/runjob":
		sh.slash(ctx, rest)
	case ":quit", ":q", ":exit":
		return true
	case ":help", ":h", ":?":
		sh.con.println(shellHelp)
	case ":rerun":
		sh.click(ctx, notifier.ActionRerun, rest)
	case ":stop":
		sh.click(ctx, notifier.ActionStop, rest)
	case ":confirm":
		sh.answerPrompt(ctx, notifier.ActionConfirm)
	case ":cancel":
		sh.answerPrompt(ctx, notifier.ActionCancel)
	case ":as":
		sh.as(rest)
	case ":in":
		sh.in(rest)
	case ":jobs":
		sh.jobs()
	default:
		switch {
		case strings.HasPrefix(word, "/"):
			sh.note(fmt.Sprintf("there is no %s command here, only /runjob (try /runjob help)", shellWordShown(word)))
		case strings.HasPrefix(word, ":"):
			sh.note(fmt.Sprintf("unknown shell command %s; :help lists them", shellWordShown(word)))
		default:
			sh.note("type /runjob followed by what you would type in Slack, e.g. /runjob cluster=52 package=434 (or :help)")
		}
	}
	return false
}

// shellHidden replaces the arguments of a line that could hold a secret
// value but that the grammar cannot read.
const shellHidden = "(input hidden: it could not be parsed)"

// maskSecrets is a typed line as the echo of piped input shows it, the
// values of secret variables hidden: secrets are never shown (design.md,
// rule 6). The grammar itself (commands.Parse, on the text as Slack would
// send it) finds the values, so no quoting, escaping or Unicode space can
// make the echo disagree with what the bot reads. A run is echoed in
// canonical form (commands.Render) with secret values masked; other
// commands as typed; text the grammar refuses is hidden when it has an "=",
// which any value needs. The arguments of other slash commands and of shell
// commands get the same treatment, and so does a line without a command (a
// run typed without its /runjob).
func (sh *shell) maskSecrets(line string) string {
	word, args := shellSplitWord(line)
	if (!strings.HasPrefix(word, "/") && !strings.HasPrefix(word, ":")) || strings.Contains(word, "=") {
		word, args = "", line // no command word: the whole line is arguments
	}
	masked := sh.maskArgs(args)
	if word == "" || masked == "" {
		return word + masked
	}
	return word + " " + masked
}

// shellSplitWord splits a line into its first word and the rest, at the
// first separator of the /runjob grammar (a Unicode space, U+200B or
// U+FEFF), so that "/runjob" followed by a pasted no-break or zero-width
// space is still /runjob.
func shellSplitWord(line string) (word, rest string) {
	i := strings.IndexFunc(line, shellSep)
	if i < 0 {
		return line, ""
	}
	return line[:i], strings.TrimFunc(line[i:], shellSep)
}

func shellSep(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }

// shellWordShown is a mistyped command word as a note quotes it: up to its
// first "=", after which a value, secret or not, could follow.
func shellWordShown(word string) string {
	w, _, _ := strings.Cut(word, "=")
	return w
}

// shellArgShown is an argument as a note quotes it; one with an "=" could
// hold a value and is not repeated.
func shellArgShown(arg string) string {
	if strings.Contains(arg, "=") {
		return "that"
	}
	return strconv.Quote(arg)
}

// maskArgs is the text of a command, as echoed by maskSecrets.
func (sh *shell) maskArgs(text string) string {
	cmd, err := commands.Parse(slacktest.EscapeText(text))
	switch run, isRun := cmd.(commands.Run); {
	case err != nil:
		if strings.Contains(text, "=") {
			return shellHidden
		}
		return text
	case isRun:
		run.Variables = sh.maskVars(run.Variables)
		run.DynamicVariables = sh.maskVars(run.DynamicVariables)
		return commands.Render(run)
	default: // help, list, status, stop, rerun: words and a job id
		return text
	}
}

// maskVars is vars with the values of secret variables replaced by Mask.
func (sh *shell) maskVars(vars map[string]string) map[string]string {
	if vars == nil {
		return nil
	}
	out := make(map[string]string, len(vars))
	for name, value := range vars {
		if sh.isSecret(name) {
			value = notifier.Mask
		}
		out[name] = value
	}
	return out
}

// isSecret reports whether the variable called name is secret by the
// bot's rule.
func (sh *shell) isSecret(name string) bool { return sh.secrets.IsSecret(name) }

func (sh *shell) note(s string) { sh.con.println("[shell] " + s) }

func (sh *shell) slash(ctx context.Context, text string) {
	user, channel := sh.where()
	sh.send(ctx, func() error {
		_, err := sh.fake.SendSlashCommand(ctx, slacktest.SlashCommand{
			UserID: user, ChannelID: channel, ChannelName: shellChannelLabel(channel),
			Command: "/runjob", Text: text,
		})
		return err
	})
}

// send sends an envelope to the bot, waiting a little for the bot's
// socket when it is reconnecting, and counts it for drain.
func (sh *shell) send(ctx context.Context, fn func() error) bool {
	sh.sent.Add(1)
	err := fn()
	if errors.Is(err, slacktest.ErrNoConnection) {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if sh.fake.WaitConnections(wctx, 1) == nil {
			err = fn()
		}
		cancel()
	}
	if err != nil {
		sh.sent.Add(-1)
		sh.note(shellSendFailure(err))
		return false
	}
	if !sh.con.interactive {
		// A script reads as a sequence: each line's command is done (its
		// card posted, its answer given) before the next line is sent.
		// Slack itself runs commands concurrently; a person typing does
		// not notice the difference.
		sh.waitHandled(ctx, shellLineTimeout)
	}
	return true
}

// shellLineTimeout bounds how long piped input waits for one command.
const shellLineTimeout = 30 * time.Second

// waitHandled waits until the bot has finished every command sent so far.
func (sh *shell) waitHandled(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for sh.handled.Load() < sh.sent.Load() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

func shellSendFailure(err error) string {
	if errors.Is(err, slacktest.ErrNoConnection) {
		return "the bot is not connected right now (it reconnects on its own); try again in a moment"
	}
	return "could not reach the bot: " + err.Error()
}

// click presses a button of a job card in the current channel, as Slack
// would after the user confirmed the Stop dialog.
func (sh *shell) click(ctx context.Context, action, arg string) {
	user, channel := sh.where()
	label := map[string]string{notifier.ActionStop: "Stop", notifier.ActionRerun: "Re-run"}[action]
	var id int64
	if arg != "" {
		var err error
		if id, err = strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64); err != nil || id <= 0 {
			sh.note(fmt.Sprintf("%s is not a job id; write it like %s 1001", shellArgShown(arg), shellVerb(action)))
			return
		}
	}
	card, found := sh.findCard(sh.fake.Snapshot(), channel, action, id)
	if found == nil {
		switch {
		case id == 0:
			sh.note(fmt.Sprintf("no card in #%s has a %s button", shellChannelLabel(channel), label))
		case card != nil:
			sh.note(fmt.Sprintf("the card of job %d has no %s button any more (%s)", id, label, card.status()))
		default:
			if other := sh.cardElsewhere(id, channel); other != "" {
				sh.note(fmt.Sprintf("the card of job %d is in #%s; go there with :in %s", id, shellChannelLabel(other), other))
			} else {
				sh.note(fmt.Sprintf("there is no card of job %d in #%s", id, shellChannelLabel(channel)))
			}
		}
		return
	}
	if !sh.press(ctx, user, channel, found.TS, action) {
		return
	}
	jobID := card.jobID
	if action == notifier.ActionStop {
		sh.note(fmt.Sprintf("clicked Stop on the card of job %d and confirmed", jobID))
	} else {
		sh.note(fmt.Sprintf("clicked Re-run on the card of job %d", jobID))
	}
}

// press clicks a button of a message, as user.
func (sh *shell) press(ctx context.Context, user, channel, ts, action string) bool {
	return sh.send(ctx, func() error {
		_, err := sh.fake.SendBlockAction(ctx, slacktest.BlockAction{
			UserID: user, ChannelID: channel, MessageTS: ts, ActionID: action,
		})
		return err
	})
}

// answerPrompt clicks Start it or Cancel on the latest confirmation the
// bot asked of the current user in the current channel.
func (sh *shell) answerPrompt(ctx context.Context, action string) {
	user, channel := sh.where()
	hint := map[string]string{notifier.ActionConfirm: ":confirm", notifier.ActionCancel: ":cancel"}[action]
	msgs := sh.fake.Snapshot().Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Channel != channel || m.Deleted || (m.Ephemeral && m.User != user) {
			continue
		}
		if !slices.Contains(sh.text.message(m.Text, m.Blocks).actions, hint) {
			continue
		}
		if !sh.press(ctx, user, channel, m.TS, action) {
			return
		}
		sh.note("clicked " + map[string]string{notifier.ActionConfirm: "Start it", notifier.ActionCancel: "Cancel"}[action] + " on the confirmation")
		return
	}
	sh.note(fmt.Sprintf("nothing in #%s is waiting for your confirmation", shellChannelLabel(channel)))
}

func shellVerb(action string) string {
	if action == notifier.ActionStop {
		return ":stop"
	}
	return ":rerun"
}

// findCard finds the latest card in channel for job id (any job when id
// is 0) and returns it rendered, and the message itself when it has the
// button for action.
func (sh *shell) findCard(snap *slacktest.Snapshot, channel, action string, id int64) (*shellRendered, *slacktest.Message) {
	want := shellVerb(action) + " "
	msgs := snap.Messages()
	var card *shellRendered
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Channel != channel || m.ThreadTS != "" || m.Ephemeral || m.Deleted {
			continue
		}
		r := sh.text.message(m.Text, m.Blocks)
		if r.jobID == 0 || (id != 0 && r.jobID != id) {
			continue
		}
		if slices.ContainsFunc(r.actions, func(a string) bool { return strings.HasPrefix(a, want) }) {
			return &r, &m
		}
		if id != 0 && card == nil {
			card = &r
		}
	}
	return card, nil
}

// cardElsewhere returns the channel of a card of job id outside channel.
func (sh *shell) cardElsewhere(id int64, channel string) string {
	for _, m := range sh.fake.Snapshot().Messages() {
		if m.Channel != channel && m.ThreadTS == "" && !m.Ephemeral && !m.Deleted &&
			sh.text.message(m.Text, m.Blocks).jobID == id {
			return m.Channel
		}
	}
	return ""
}

func (sh *shell) as(arg string) {
	if arg == "" {
		u, _ := sh.where()
		sh.note(fmt.Sprintf("you are @%s (%s)", shellUserLabel(u), u))
		return
	}
	id := strings.TrimPrefix(arg, "@")
	switch {
	case strings.EqualFold(arg, shellUserName) || strings.EqualFold(arg, "me"):
		id = shellUser
	case !shellUserIDShape.MatchString(id):
		sh.note(fmt.Sprintf("%s is not a Slack user id; they look like U012AB3CD (U or W, then capital letters and digits)", shellArgShown(arg)))
		return
	}
	sh.mu.Lock()
	sh.user = id
	sh.mu.Unlock()
	sh.note(fmt.Sprintf("you are now @%s (%s)", shellUserLabel(id), id))
}

func (sh *shell) in(arg string) {
	if arg == "" {
		_, c := sh.where()
		sh.note(fmt.Sprintf("you are in #%s (%s)", shellChannelLabel(c), c))
		return
	}
	id := strings.TrimPrefix(arg, "#")
	switch {
	case strings.EqualFold(strings.TrimPrefix(arg, "#"), shellChannelName):
		id = shellChannel
	case !shellChannelIDShape.MatchString(id):
		sh.note(fmt.Sprintf("%s is not a Slack channel id; they look like C012AB3CD (C, G or D, then capital letters and digits)", shellArgShown(arg)))
		return
	}
	sh.mu.Lock()
	sh.channel = id
	sh.mu.Unlock()
	sh.note(fmt.Sprintf("you are now in #%s (%s)", shellChannelLabel(id), id))
}

// jobs lists the job cards of the current channel, oldest first.
func (sh *shell) jobs() {
	_, channel := sh.where()
	var out []string
	for _, m := range sh.fake.Snapshot().Messages() {
		if m.Channel != channel || m.ThreadTS != "" || m.Ephemeral || m.Deleted {
			continue
		}
		r := sh.text.message(m.Text, m.Blocks)
		if r.jobID == 0 {
			continue
		}
		line := fmt.Sprintf("  job %d: %s", r.jobID, shellEditLine(r))
		if len(r.actions) > 0 {
			line += " · " + strings.Join(r.actions, " · ")
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		sh.note(fmt.Sprintf("no job cards in #%s yet", shellChannelLabel(channel)))
		return
	}
	sh.con.println(fmt.Sprintf("[shell] job cards in #%s:\n%s", shellChannelLabel(channel), strings.Join(out, "\n")))
}

// drain waits, at end of input, until the bot has handled every command
// sent and delivered the final reply of every job whose card it posted, or
// until limit.
func (sh *shell) drain(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	announced := false
	for {
		snap := sh.fake.Snapshot()
		running, starting := sh.unfinished(snap), shellStarting(snap)
		if len(running) == 0 && starting == 0 && sh.sent.Load() <= sh.handled.Load() {
			return
		}
		if !announced && (len(running) > 0 || starting > 0) {
			announced = true
			what := "the job being started"
			if len(running) > 0 {
				what = shellJobList(running)
			}
			sh.note(fmt.Sprintf("end of input: waiting up to %s for %s to end", limit.Round(time.Second), what))
		}
		left := time.Until(deadline)
		if left <= 0 {
			if len(running) > 0 {
				sh.note(fmt.Sprintf("leaving while %s still running", shellJobList(running)))
			}
			return
		}
		// The bot's hooks do not wake the fake Slack: look again at least
		// every 100 ms.
		wctx, cancel := context.WithTimeout(ctx, min(100*time.Millisecond, left))
		_ = sh.fake.Wait(wctx, func(s *slacktest.Snapshot) bool {
			return len(sh.unfinished(s)) < len(running) || shellStarting(s) < starting
		})
		cancel()
		if ctx.Err() != nil {
			return
		}
	}
}

func shellJobList(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	if len(ids) == 1 {
		return "job " + s[0]
	}
	return "jobs " + strings.Join(s, ", ")
}

// shellStarting counts the cards still saying "starting…": their job's id
// reaches the card through the bot's card edits, which may lag the command
// that started it, and until then the job is not in unfinished's list.
func shellStarting(snap *slacktest.Snapshot) int {
	n := 0
	for _, m := range snap.Messages() {
		if !m.Ephemeral && !m.Deleted && m.ThreadTS == "" && strings.HasSuffix(m.Text, ": starting…") {
			n++
		}
	}
	return n
}

// unfinished lists the jobs that have a card but whose final reply has not
// been delivered yet.
func (sh *shell) unfinished(snap *slacktest.Snapshot) []int64 {
	var ids []int64
	for _, m := range snap.Messages() {
		if m.Ephemeral || m.Deleted || m.ThreadTS != "" {
			continue
		}
		if r := sh.text.message(m.Text, m.Blocks); r.jobID != 0 {
			ids = append(ids, r.jobID)
		}
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ids = slices.DeleteFunc(ids, func(id int64) bool { return sh.ended[id] })
	slices.Sort(ids)
	return ids
}

// console is the terminal: output from several goroutines, one line at a
// time, and, when a person is typing, a prompt kept at the bottom.
type shellConsole struct {
	in          io.Reader
	interactive bool // stdin and stdout are terminals: prompt, no echo

	mu       sync.Mutex
	w        io.Writer
	prompt   func() string
	prompted bool // the prompt is on screen, waiting for input
	err      error

	linesOnce sync.Once
	lines     chan string
	stop      chan struct{}
}

func newShellConsole(stdin io.Reader, stdout io.Writer) *shellConsole {
	return &shellConsole{
		in: stdin, w: stdout,
		interactive: shellIsTerminal(stdin) && shellIsTerminal(stdout),
		stop:        make(chan struct{}),
	}
}

// shellIsTerminal reports whether v is a character device (a terminal).
func shellIsTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// readLines reads input lines in a goroutine; the channel closes at the end
// of input.
func (c *shellConsole) readLines() <-chan string {
	c.linesOnce.Do(func() {
		c.lines = make(chan string)
		go func() {
			defer close(c.lines)
			sc := bufio.NewScanner(c.in)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			for sc.Scan() {
				select {
				case c.lines <- sc.Text():
				case <-c.stop:
					return
				}
			}
			c.mu.Lock()
			c.err = sc.Err()
			c.mu.Unlock()
		}()
	})
	return c.lines
}

func (c *shellConsole) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// println writes s and a newline, moving the prompt below it. s may hold
// text from Slack messages, and through them from Xplenty: its control
// characters are made visible (shellSanitize), never sent to the terminal.
func (c *shellConsole) println(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prompted {
		io.WriteString(c.w, "\r\033[K") // erase the prompt line
	}
	io.WriteString(c.w, shellSanitize(s)+"\n")
	if c.prompted {
		io.WriteString(c.w, shellSanitize(c.prompt()))
	}
}

// echo writes what was typed when nobody saw it typed (piped input), so
// the output reads like a transcript.
func (c *shellConsole) echo(s string) {
	if !c.interactive {
		c.println(s)
	}
}

func (c *shellConsole) showPrompt() {
	if !c.interactive {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.prompted {
		io.WriteString(c.w, shellSanitize(c.prompt()))
		c.prompted = true
	}
}

// inputRead notes that the user pressed enter: the prompt line is done.
func (c *shellConsole) inputRead() {
	c.mu.Lock()
	c.prompted = false
	c.mu.Unlock()
}

// done stops reading input (a reader blocked on a terminal stays blocked
// until the process exits; that is harmless).
func (c *shellConsole) done() {
	close(c.stop)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prompted {
		io.WriteString(c.w, "\n")
		c.prompted = false
	}
}
