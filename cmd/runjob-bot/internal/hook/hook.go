// Package hook is `runjob-bot hook`: it points a web hook of the Xplenty
// account at the bot (install), so that Xplenty tells the bot at once when
// a job changes, and shows the account's hooks (status).
package hook

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/ops"
	"github.com/runjob/runjob/xplenty"
)

// Usage is the help of `runjob-bot hook`.
const Usage = `Usage:
  runjob-bot hook install --url https://bot.example.com/hooks/xplenty
        add a web hook to the Xplenty account that POSTs to the bot on every job event,
        with HTTP Basic auth from XPLENTY_HOOK_AUTH; if a web hook already posts to that
        URL, update it instead (idempotent)
  runjob-bot hook status [--url https://bot.example.com/hooks/xplenty]
        list the account's hooks and say which one posts to the bot (the one with --url,
        else any whose path is /hooks/xplenty), and what is wrong with it, if anything

Reads XPLENTY_ACCOUNT_ID, XPLENTY_API_KEY, XPLENTY_API_URL and, for install,
XPLENTY_HOOK_AUTH (user:password; never printed).
`

// callTimeout bounds the whole of a hook command's calls to Xplenty.
const callTimeout = time.Minute

// Run runs `runjob-bot hook`; args are what follows "hook".
func Run(ctx context.Context, args []string, e config.Env, version string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	sub := args[0]
	if sub != "install" && sub != "status" {
		return fmt.Errorf("hook: unknown command %q\n%s", sub, Usage)
	}
	fs := flag.NewFlagSet("hook "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", "", "the bot's public URL of "+ops.HookPath)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("hook %s: unexpected argument %q", sub, fs.Arg(0))
	}
	var target string
	if *rawURL != "" || sub == "install" {
		var err error
		if target, err = hookURL(*rawURL); err != nil {
			return fmt.Errorf("hook %s: --url %w", sub, err)
		}
	}
	var problems []string
	auth, err := config.ParseHookAuth(e.XplentyHookAuth)
	if err != nil {
		problems = append(problems, "XPLENTY_HOOK_AUTH "+err.Error())
	} else if sub == "install" && !auth.On() {
		problems = append(problems, "XPLENTY_HOOK_AUTH is missing: the hook must send the user:password the bot checks (set it here and where the bot runs)")
	}
	c, err := client(e, version)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("configuration:\n%s", strings.Join(problems, "\n"))
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if sub == "install" {
		return install(ctx, c, target, auth, stdout)
	}
	return status(ctx, c, target, auth, stdout)
}

// client is the Xplenty client of XPLENTY_ACCOUNT_ID, XPLENTY_API_KEY and
// XPLENTY_API_URL, or an error naming each one missing or malformed.
func client(e config.Env, version string) (*xplenty.Client, error) {
	var problems []string
	acct, key := strings.TrimSpace(e.XplentyAccountID), strings.TrimSpace(e.XplentyAPIKey)
	if acct == "" {
		problems = append(problems, "XPLENTY_ACCOUNT_ID is missing")
	}
	if key == "" {
		problems = append(problems, "XPLENTY_API_KEY is missing")
	}
	base, err := config.HTTPURL(e.XplentyAPIURL)
	if err != nil {
		problems = append(problems, "XPLENTY_API_URL "+err.Error())
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	if version == "" {
		version = "dev"
	}
	return xplenty.New(xplenty.Config{BaseURL: base, AccountID: acct, APIKey: key,
		HTTPClient: &http.Client{Timeout: 30 * time.Second}, UserAgent: "runjob/" + version})
}

// hookURL checks the bot's public hook URL: https (plain http only to a
// loopback address, where nothing crosses a network), no credentials, no
// fragment. The credentials go in the hook's settings, not in its URL.
func hookURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("is required: the bot's public URL of " + ops.HookPath + ", like https://bot.example.com" + ops.HookPath)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "", errors.New("must be an absolute https URL, like https://bot.example.com" + ops.HookPath)
	case u.User != nil:
		return "", errors.New("must not hold credentials: they come from XPLENTY_HOOK_AUTH")
	case u.Fragment != "" || u.RawFragment != "":
		return "", errors.New("must not have a fragment")
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return "", errors.New("must be https: the hook sends the password of XPLENTY_HOOK_AUTH with every call")
	}
	return u.String(), nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameURL reports whether a and b name the same endpoint: scheme and host
// in any case, the path as written but for a trailing slash (the ops
// server takes /hooks/xplenty and /hooks/xplenty/ alike), the query as
// written.
func sameURL(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimSuffix(ua.EscapedPath(), "/") == strings.TrimSuffix(ub.EscapedPath(), "/") && ua.RawQuery == ub.RawQuery
}

// install adds the bot's web hook, or updates the one that already posts
// to target, so that running it twice leaves one hook.
func install(ctx context.Context, c *xplenty.Client, target string, auth config.HookAuth, out io.Writer) error {
	hooks, err := c.ListHooks(ctx)
	if err != nil {
		return fmt.Errorf("hook install: list the account's hooks: %w", explain(err, auth))
	}
	var same []xplenty.Hook
	for _, h := range hooks {
		if h.Type == xplenty.HookTypeWeb && sameURL(h.URL, target) {
			same = append(same, h)
		}
	}
	req := xplenty.WebHookRequest{URL: target, User: auth.User, Password: auth.Password, Events: xplenty.JobHookEvents}
	var h *xplenty.Hook
	verb := "added"
	if len(same) == 0 {
		if h, err = c.CreateWebHook(ctx, req); err != nil {
			if xplenty.IsOutcomeUnknown(err) {
				return fmt.Errorf("hook install: Xplenty's answer was lost, the hook may have been added: "+
					"run `runjob-bot hook status --url %s` before trying again (%w)", target, explain(err, auth))
			}
			return fmt.Errorf("hook install: add the web hook: %w", explain(err, auth))
		}
	} else {
		verb = "updated"
		if h, err = c.UpdateWebHook(ctx, same[0].ID, req); err != nil {
			return fmt.Errorf("hook install: update web hook %d: %w", same[0].ID, explain(err, auth))
		}
	}
	fmt.Fprintf(out, "%s web hook %d: POST %s on %s, HTTP Basic auth as %s (password from XPLENTY_HOOK_AUTH), active: %v\n",
		verb, h.ID, printable(target), strings.Join(h.Events, ", "), printable(auth.User), h.Active)
	if len(same) > 1 {
		var ids []string
		for _, o := range same[1:] {
			ids = append(ids, fmt.Sprint(o.ID))
		}
		fmt.Fprintf(out, "warning: web hooks %s post to the same URL: each change is announced more than once; delete them in Xplenty\n",
			strings.Join(ids, ", "))
	}
	if !strings.HasSuffix(strings.TrimSuffix(targetPath(target), "/"), ops.HookPath) {
		fmt.Fprintf(out, "note: the bot receives hooks on %s; make sure the URL above is routed there\n", ops.HookPath)
	}
	return nil
}

func targetPath(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Path
}

// explain adds what Xplenty said to an error answer, with the credentials
// of the request scrubbed from it (a server may echo a request).
func explain(err error, auth config.HookAuth) error {
	var er *xplenty.ErrorResponse
	if !errors.As(err, &er) || er.ServerMessage() == "" {
		return err
	}
	msg := er.ServerMessage()
	if auth.On() {
		basic := auth.User + ":" + auth.Password
		for _, s := range []string{base64.StdEncoding.EncodeToString([]byte(basic)), basic, auth.Password} {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return fmt.Errorf("%w: Xplenty says %q", err, printable(msg))
}

// printable keeps text from Xplenty or the environment to printable ASCII
// on a terminal: anything else (control characters, escape sequences,
// bidi marks) becomes "?".
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// shownURL is a web hook's URL as status shows it: without user info, and
// with the query (which may hold a token) left out.
func shownURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(not a URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = ""
		return printable(u.String()) + "?…"
	}
	return printable(u.String())
}

// coversJobEvents reports whether events include every job event.
func coversJobEvents(events []string) bool {
	if slices.Contains(events, "job") {
		return true
	}
	for _, e := range xplenty.JobHookEvents {
		if !slices.Contains(events, e) {
			return false
		}
	}
	return true
}

// status lists the account's hooks, marks those that post to the bot and
// says what is wrong with them.
func status(ctx context.Context, c *xplenty.Client, target string, auth config.HookAuth, out io.Writer) error {
	hooks, err := c.ListHooks(ctx)
	if err != nil {
		return fmt.Errorf("hook status: list the account's hooks: %w", explain(err, auth))
	}
	toBot := func(h xplenty.Hook) bool {
		if h.Type != xplenty.HookTypeWeb {
			return false
		}
		if target != "" {
			return sameURL(h.URL, target)
		}
		return strings.HasSuffix(strings.TrimSuffix(targetPath(h.URL), "/"), ops.HookPath)
	}
	if len(hooks) == 0 {
		fmt.Fprintln(out, "the account has no hooks")
	} else {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTYPE\tACTIVE\tBASIC AUTH\tEVENTS\tURL\t")
		for _, h := range hooks {
			u, basic, mark := "-", "-", ""
			if h.Type == xplenty.HookTypeWeb {
				u, basic = shownURL(h.URL), fmt.Sprint(h.BasicAuth)
			}
			if toBot(h) {
				mark = "<- the bot"
			}
			fmt.Fprintf(tw, "%d\t%s\t%v\t%s\t%s\t%s\t%s\n", h.ID, printable(h.Type), h.Active, basic, printable(strings.Join(h.Events, ",")), u, mark)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	var mine []xplenty.Hook
	for _, h := range hooks {
		if toBot(h) {
			mine = append(mine, h)
		}
	}
	if len(mine) == 0 {
		fmt.Fprintf(out, "no web hook posts to the bot: run `runjob-bot hook install --url https://<the bot's public host>%s`\n", ops.HookPath)
		return nil
	}
	for _, h := range mine {
		switch {
		case !h.Active:
			fmt.Fprintf(out, "web hook %d is switched off: the bot only polls (run hook install to switch it on)\n", h.ID)
		case !h.BasicAuth:
			fmt.Fprintf(out, "web hook %d sends no credentials: the bot refuses it (401); run hook install\n", h.ID)
		case !coversJobEvents(h.Events):
			fmt.Fprintf(out, "web hook %d misses some job events (the bot wants %s); run hook install\n", h.ID, strings.Join(xplenty.JobHookEvents, ", "))
		default:
			fmt.Fprintf(out, "web hook %d posts every job event to the bot, with credentials\n", h.ID)
		}
	}
	if len(mine) > 1 {
		fmt.Fprintln(out, "warning: more than one web hook posts to the bot: each change is announced more than once")
	}
	return nil
}
