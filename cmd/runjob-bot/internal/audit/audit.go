// Package audit is `runjob-bot audit`: it prints the bot's recent audit
// trail (runs, re-runs, stops, confirmations, denials) from its Redis.
package audit

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/notifier/store"
)

// limit bounds how many entries `runjob-bot audit` prints.
const limit = 1000

// Run prints recent audit entries as a table: `runjob-bot audit [-since
// 24h]`; args are what follows "audit". Of e it needs only REDIS_URL (and
// REDIS_MODE, REDIS_PREFIX).
func Run(ctx context.Context, args []string, e config.Env, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.Duration("since", 24*time.Hour, "show entries from this long ago")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(e.RedisURL) == "" {
		return fmt.Errorf("REDIS_URL is missing: the audit trail lives in the bot's Redis")
	}
	r, err := config.ParseRedis(e.RedisMode, e.RedisURL)
	if err != nil {
		return err
	}
	rdb, err := app.NewRedis(r)
	if err != nil {
		return err
	}
	defer rdb.Close()
	store, err := store.New(rdb, store.Options{Prefix: e.RedisPrefix})
	if err != nil {
		return err
	}
	entries, err := store.AuditSince(ctx, time.Now().Add(-*since), limit)
	if err != nil {
		return err
	}
	return printTable(stdout, entries)
}

func printTable(w io.Writer, entries []store.AuditEntry) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "no audit entries in that period")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tACTION\tUSER\tCHANNEL\tJOB\tOUTCOME\tRUN\tDETAIL")
	for _, e := range entries {
		job := "-"
		if e.JobID != 0 {
			job = strconv.FormatInt(e.JobID, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format("2006-01-02 15:04:05"),
			terminalSafe(e.Action), terminalSafe(e.User), terminalSafe(e.Channel), job,
			terminalSafe(e.Outcome), dash(terminalSafe(e.Variables)), dash(terminalSafe(e.Detail)))
	}
	return tw.Flush()
}

// terminalSafe shows a stored field on a terminal as text: every rune that
// is not printable (control characters such as \r, which could forge a
// row, ESC, which starts escape sequences, tabs, which tabwriter takes for a
// column break, bidi and other format characters, line separators) is
// written as its Go escape (\r, \x1b, \u202e), and so is a backslash
// (\\), so that an escape in the output always means the character.
// Invalid UTF-8 shows as \xNN.
func terminalSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
