// Command runjob-bot is the runjob Slack bot: `runjob-bot` serves Slack over
// Socket Mode; `runjob-bot shell` is a terminal chat with the same bot, for
// trying it without Slack, Redis or an Xplenty account; `runjob-bot audit`
// prints the audit trail; `runjob-bot hook` points Xplenty's web hooks at
// the bot.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/audit"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/hook"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/shell"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "runjob-bot:", err)
		os.Exit(1)
	}
}

// run is the whole program; tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "", "serve":
		cfg, err := config.Read(os.LookupEnv, config.ServeDefaults()).Check()
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
		return app.Serve(ctx, cfg, app.Deps{Logger: log, Version: version})
	case "shell":
		return shell.Run(ctx, args[1:], stdin, stdout, stderr, shell.Options{Version: version})
	case "audit":
		return audit.Run(ctx, args[1:], config.Read(os.LookupEnv, config.ServeDefaults()), stdout, stderr)
	case "hook":
		return hook.Run(ctx, args[1:], config.Read(os.LookupEnv, config.ServeDefaults()), version, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version":
		fmt.Fprintln(stdout, "runjob-bot", version)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `runjob-bot: run Xplenty jobs from Slack.

Usage:
  runjob-bot            serve Slack over Socket Mode (configured by the environment; see README.md)
  runjob-bot shell      a terminal chat with the bot: no Slack, Redis or Xplenty account needed
  runjob-bot audit [-since 24h]
                        print the audit trail (runs, re-runs, stops, confirmations, denials)
  runjob-bot hook install --url https://bot.example.com/hooks/xplenty
                        point a web hook of the Xplenty account at the bot (XPLENTY_HOOK_AUTH)
  runjob-bot hook status
                        list the account's hooks and which one posts to the bot
  runjob-bot version    print the version
`
