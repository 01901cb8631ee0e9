package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/app"
	"github.com/runjob/runjob/cmd/runjob-bot/internal/ops"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The end-to-end tests run the real program (serve) against a fake Slack
// (Web API and Socket Mode, spoken by the real slack-go client), the
// in-memory Xplenty, and a real redis-server.

const (
	secretValue = "hunter2-s3cret"
	// escapedSecret holds characters that JSON, HTML and URLs escape.
	escapedSecret = `Zq8vK&w7"Xk9`
	waitLimit     = 20 * time.Second // guards against hangs; not a timing assertion
)

type e2e struct {
	t     testing.TB
	slack *slacktest.Server
	xp    *xplentytest.Server
	rdb   redis.UniversalClient
	cfg   config.Config
	logs  *syncBuffer
	bots  int // replicas started and not stopped
	// tune, when set, adjusts the deps of the replicas startBot starts.
	tune func(*app.Deps)
	// coldCatalog: startBot does not wait for the bot to read the catalog
	// (for tests where Xplenty cannot answer it).
	coldCatalog bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newE2E(t testing.TB, xo xplentytest.Options) *e2e {
	t.Helper()
	sl := slacktest.New(slacktest.Options{})
	t.Cleanup(sl.Close)
	if xo.BasePath == "" {
		xo.BasePath = "/xplenty/" // a client ignoring its base path fails loudly
	}
	xp := xplentytest.New(xo)
	t.Cleanup(xp.Close)
	rdb, prefix := redistest.Client(t)
	e := &e2e{t: t, slack: sl, xp: xp, rdb: rdb, logs: &syncBuffer{}}
	e.cfg = config.Config{
		SlackAppToken: sl.AppToken(), SlackBotToken: sl.BotToken(), SlackAPIURL: sl.APIURL(),
		XplentyAccountID: xp.AccountID(), XplentyAPIKey: xp.APIKey(), XplentyURL: xp.URL(),
		Redis:        config.SingleRedis(&redis.Options{Addr: redistest.Addr(t, rdb)}),
		PollInterval: 100 * time.Millisecond, Retention: time.Hour,
		AllowedUsers: []string{"*"}, AllowedChannels: []string{"*"},
		RedisPrefix: prefix,
	}
	t.Cleanup(e.checkNoSecrets)
	return e
}

// startBot runs one replica until the returned function stops it (as
// SIGTERM would) and checks it exited cleanly.
func (e *e2e) startBot() (stop func()) {
	e.t.Helper()
	return e.startBotWith(ops.Hooks{}, nil)
}

// startBotWith is startBot with h observing the replica and onReady, when
// set, called each time it connects.
func (e *e2e) startBotWith(h ops.Hooks, onReady func()) (stop func()) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	d := app.Deps{
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hooks:  h,
		Ready: func() {
			once.Do(func() { close(ready) })
			if onReady != nil {
				onReady()
			}
		},
		ChannelRate: 1000, ChannelBurst: 1000, UpdateRate: 1000, ClaimIdle: time.Second,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	}
	if e.tune != nil {
		e.tune(&d)
	}
	go func() { done <- app.Serve(ctx, e.cfg, d) }()
	select {
	case <-ready:
	case err := <-done:
		e.t.Fatalf("bot stopped before connecting: %v", err)
	case <-time.After(waitLimit):
		e.t.Fatal("bot did not connect to the fake Slack")
	}
	e.bots++
	ctxw, cancelw := context.WithTimeout(context.Background(), waitLimit)
	defer cancelw()
	if err := e.slack.WaitConnections(ctxw, e.bots); err != nil {
		e.t.Fatalf("waiting for %d socket connections: %v", e.bots, err)
	}
	if !e.coldCatalog {
		e.waitCatalog(ctxw)
	}
	var stopOnce sync.Once
	stop = func() {
		stopOnce.Do(func() {
			cancel()
			e.bots--
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("bot exited with %v, want nil", err)
				}
			case <-time.After(waitLimit):
				e.t.Error("bot did not stop")
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// waitCatalog waits until the bot has read the package and cluster lists
// (it does at start), so that a test's FailNext or DropNextAnswers meets
// the calls of the acts it is about.
func (e *e2e) waitCatalog(ctx context.Context) {
	e.t.Helper()
	prefix := store.EffectivePrefix(e.rdb, e.cfg.RedisPrefix)
	keys := []string{prefix + "catalog:packages", prefix + "catalog:clusters"}
	for {
		n, err := e.rdb.Exists(ctx, keys...).Result()
		if err == nil && n == int64(len(keys)) {
			return
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("the bot did not read the catalog at start: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// command types /runjob text and waits for the ack.
func (e *e2e) command(user, channel, text string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	id, err := e.slack.SendSlashCommand(ctx, slacktest.SlashCommand{UserID: user, ChannelID: channel, Text: text})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.slack.WaitAck(ctx, id); err != nil {
		e.t.Fatalf("command %q not acked: %v", text, err)
	}
	return id
}

// click clicks a button of card, waits for the ack and returns the
// envelope's id.
func (e *e2e) click(user string, card slacktest.Message, action string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	id, err := e.slack.SendBlockAction(ctx, slacktest.BlockAction{UserID: user, ChannelID: card.Channel, MessageTS: card.TS, ActionID: action})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.slack.WaitAck(ctx, id); err != nil {
		e.t.Fatalf("click not acked: %v", err)
	}
	return id
}

// wait blocks until cond holds for the fake Slack's state.
func (e *e2e) wait(what string, cond func(*slacktest.Snapshot) bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := e.slack.Wait(ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v\nmessages:\n%s", what, err, dump(e.slack.Messages()))
	}
}

// blocks returns a message's blocks as Slack would show their JSON, with
// Go's \u003c-style escapes of < > & undone so tests can look for markup.
func blocks(m slacktest.Message) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(m.Blocks))
}

func dump(msgs []slacktest.Message) string {
	var sb strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&sb, "  %s ts=%s thread=%s eph=%v: %s\n", m.Channel, m.TS, m.ThreadTS, m.Ephemeral, m.Text)
	}
	return sb.String()
}

// card returns the job card of a job: the top-level message naming it.
func card(s *slacktest.Snapshot, id int64) (slacktest.Message, bool) {
	needle := fmt.Sprintf("Job %d ", id)
	for _, m := range s.Messages() {
		if !m.Ephemeral && m.ThreadTS == "" && strings.Contains(m.Text, needle) {
			return m, true
		}
	}
	return slacktest.Message{}, false
}

func (e *e2e) waitCard(id int64, contains string) slacktest.Message {
	e.t.Helper()
	var c slacktest.Message
	e.wait(fmt.Sprintf("card of job %d with %q", id, contains), func(s *slacktest.Snapshot) bool {
		m, ok := card(s, id)
		c = m
		return ok && strings.Contains(m.Text, contains)
	})
	return c
}

func (e *e2e) waitReplies(c slacktest.Message, n int) []slacktest.Message {
	e.t.Helper()
	var out []slacktest.Message
	e.wait(fmt.Sprintf("%d replies in the thread of %s", n, c.TS), func(s *slacktest.Snapshot) bool {
		out = s.ThreadReplies(c.Channel, c.TS)
		return len(out) >= n
	})
	return out
}

func (e *e2e) waitEphemeral(user, contains string) slacktest.Message {
	e.t.Helper()
	var got slacktest.Message
	e.wait(fmt.Sprintf("an answer to %s with %q", user, contains), func(s *slacktest.Snapshot) bool {
		for _, m := range s.Ephemerals(user) {
			if strings.Contains(m.Text, contains) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// settle lets several poll intervals and a delivery claim period pass, so
// that a duplicate, if the bot were to make one, would have appeared.
func (e *e2e) settle() { time.Sleep(1500 * time.Millisecond) }

func (e *e2e) runs() int {
	n := 0
	for _, r := range e.xp.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/api/jobs") {
			n++
		}
	}
	return n
}

func (e *e2e) setStatus(id int64, st xplenty.Status) {
	e.t.Helper()
	if err := e.xp.SetStatus(id, st); err != nil {
		e.t.Fatal(err)
	}
}

// checkNoSecrets looks for the secret variables' values and every token,
// as typed and in each escaped form (JSON, HTML, URL) that Slack's JSON, a
// JSON log line or an echo from Xplenty may write, in all that left the
// bot: Slack calls, messages, logs, and what it stored in Redis.
func (e *e2e) checkNoSecrets() {
	var secrets []string
	for _, s := range []string{secretValue, spacedSecret, escapedSecret, e.cfg.SlackBotToken, e.cfg.SlackAppToken, e.cfg.XplentyAPIKey,
		e.cfg.HookAuth.Password} {
		secrets = append(secrets, escapedForms(s)...)
	}
	var all strings.Builder
	for _, c := range e.slack.Calls("") {
		fmt.Fprintf(&all, "%s %v\n", c.Method, c.Params)
	}
	for _, m := range e.slack.Messages() {
		for _, v := range m.History {
			fmt.Fprintf(&all, "%+v\n", v)
		}
		fmt.Fprintf(&all, "%s %s\n", m.Text, m.Blocks)
	}
	all.WriteString(e.logs.String())
	// Redis too: secret values are encrypted at rest.
	ctx := context.Background()
	keys, _ := redistest.ScanKeys(ctx, e.rdb, store.EffectivePrefix(e.rdb, e.cfg.RedisPrefix)+"*")
	for _, k := range keys {
		dump, _ := e.rdb.Dump(ctx, k).Result()
		all.WriteString(dump)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(all.String(), s) {
			e.t.Errorf("a secret (%d chars) leaked into Slack or the logs", len(s))
		}
	}
}

// escapedForms returns s and the forms JSON (HTML-safe or not), HTML and
// URLs write it in, written out here apart from the scrubber's own list.
func escapedForms(s string) []string {
	if s == "" {
		return nil
	}
	var plain bytes.Buffer
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	safe, _ := json.Marshal(s)
	forms := []string{s,
		strings.Trim(strings.TrimSpace(plain.String()), `"`), strings.Trim(string(safe), `"`),
		html.EscapeString(s), strings.ReplaceAll(html.EscapeString(s), "&#34;", "&quot;"),
		url.QueryEscape(s), url.PathEscape(s)}
	slices.Sort(forms)
	return slices.Compact(forms)
}

func TestE2ECompletedJobGetsOneThreadReply(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434 DATE=2026-11-01 DB_PASSWORD="+secretValue+" NOW:=CurrentTime()")

	c := e.waitCard(1001, "idle")
	job, ok := e.xp.Job(1001)
	if !ok || job.ClusterID != 52 || job.PackageID != 434 || job.Variables["DATE"] != "2026-11-01" ||
		job.Variables["DB_PASSWORD"] != secretValue || job.DynamicVariables["NOW"] != "CurrentTime()" {
		t.Fatalf("Xplenty got %+v", job)
	}
	if !strings.Contains(blocks(c), render.ActionStop) || !strings.Contains(blocks(c), render.ActionRerun) {
		t.Errorf("card has no Stop and Re-run buttons: %s", c.Blocks)
	}

	e.setStatus(1001, xplenty.StatusRunning)
	if err := e.xp.SetProgress(1001, 0.4); err != nil {
		t.Fatal(err)
	}
	e.waitCard(1001, "running 40%")
	if err := e.xp.SetOutputs(1001, []xplenty.Output{{Name: "orders", RecordsCount: 10415234}}); err != nil {
		t.Fatal(err)
	}
	e.setStatus(1001, xplenty.StatusCompleted)
	e.waitCard(1001, "completed")
	replies := e.waitReplies(c, 1)
	e.settle()
	if got := e.slack.ThreadReplies(c.Channel, c.TS); len(got) != 1 {
		t.Fatalf("%d thread replies, want 1:\n%s", len(got), dump(got))
	}
	r := replies[0]
	for _, want := range []string{"1001", "completed", "<@U1>"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("reply fallback %q lacks %q", r.Text, want)
		}
	}
	if !strings.Contains(blocks(r), "10,415,234") {
		t.Errorf("reply does not give the output's record count: %s", r.Blocks)
	}
	final, _ := card(e.slack.Snapshot(), 1001)
	if strings.Contains(blocks(final), render.ActionStop) || !strings.Contains(blocks(final), render.ActionRerun) {
		t.Errorf("finished card must keep Re-run and lose Stop: %s", final.Blocks)
	}
}

func TestE2EFailedJobReportsXplentysError(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	c := e.waitCard(1001, "idle")
	if err := e.xp.SetErrors(1001, "Failed to read from source 'orders': <!channel> access denied"); err != nil {
		t.Fatal(err)
	}
	e.setStatus(1001, xplenty.StatusFailed)
	r := e.waitReplies(c, 1)[0]
	if !strings.Contains(r.Text, "failed") || !strings.Contains(blocks(r), "access denied") {
		t.Errorf("failed reply lacks the status or Xplenty's error: %s / %s", r.Text, r.Blocks)
	}
	if strings.Contains(blocks(r), "<!channel>") || strings.Contains(r.Text, "<!channel>") {
		t.Errorf("Xplenty's error text can ping the channel: %s", r.Blocks)
	}
}

func TestE2EStopButton(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	c := e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusRunning)
	e.waitCard(1001, "running")
	e.click("U2", c, render.ActionStop)
	e.waitCard(1001, "stopping")
	if j, _ := e.xp.Job(1001); j.Status != xplenty.StatusPendingStoppage {
		t.Fatalf("Xplenty job status = %s, want pending_stoppage", j.Status)
	}
	e.setStatus(1001, xplenty.StatusStopped)
	r := e.waitReplies(c, 1)[0]
	if !strings.Contains(r.Text, "stopped") || !strings.Contains(blocks(r)+r.Text, "<@U2>") {
		t.Errorf("stopped reply does not say who stopped it: %s / %s", r.Text, r.Blocks)
	}
	// Stopping the finished job again is refused politely.
	e.command("U2", "C1", "stop 1001")
	e.waitEphemeral("U2", "already ended")
	if n := len(e.slack.ThreadReplies(c.Channel, c.TS)); n != 1 {
		t.Errorf("%d thread replies, want 1", n)
	}
}

func TestE2ERerunUsesStoredParameters(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434 DATE=2026-11-01 DB_PASSWORD="+secretValue+" NOW:=CurrentTime()")
	c := e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusCompleted)
	e.waitReplies(c, 1)

	e.click("U3", c, render.ActionRerun)
	e.click("U3", c, render.ActionRerun) // a double click starts one job
	nc := e.waitCard(1002, "idle")
	j, _ := e.xp.Job(1002)
	if j.ClusterID != 52 || j.PackageID != 434 || j.Variables["DATE"] != "2026-11-01" ||
		j.Variables["DB_PASSWORD"] != secretValue || j.DynamicVariables["NOW"] != "CurrentTime()" {
		t.Errorf("re-run sent %+v, want the first job's parameters", j)
	}
	if !strings.Contains(blocks(nc), "1001") || !strings.Contains(blocks(nc), "<@U3>") {
		t.Errorf("re-run card does not say whose re-run of which job: %s", nc.Blocks)
	}
	e.waitReplies(c, 2) // the note linking the new job in the old thread
	e.settle()
	if n := e.runs(); n != 2 {
		t.Errorf("%d run requests, want 2 (the double click must start one job)", n)
	}
}

func TestE2EBadInputAnswersOnlyTheTypist(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=5.2 package=434")
	m := e.waitEphemeral("U1", "cluster=5.2")
	if !strings.Contains(m.Text, "cluster=52") {
		t.Errorf("answer does not show the right form: %q", m.Text)
	}
	e.command("U1", "C1", "help")
	e.waitEphemeral("U1", "cluster=")
	if n := e.runs(); n != 0 {
		t.Errorf("%d run requests after bad input, want 0", n)
	}
	for _, msg := range e.slack.Messages() {
		if !msg.Ephemeral {
			t.Errorf("bad input posted in the channel: %q", msg.Text)
		}
	}
}

func TestE2EXplentyRefusalIsShown(t *testing.T) {
	e := newE2E(t, xplentytest.Options{MissingPackages: []int64{999}})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=999")
	e.wait("the refused card", func(s *slacktest.Snapshot) bool {
		for _, m := range s.Messages() {
			if strings.Contains(blocks(m), "Package 999 not found") {
				return true
			}
		}
		return false
	})
	ids, _ := e.rdb.Keys(context.Background(), e.cfg.RedisPrefix+"job:*").Result()
	if len(ids) != 0 {
		t.Errorf("a refused run was tracked: %v", ids)
	}
}

// The run request's answer is lost: the bot says the job may have started,
// never sends the request again, and finds the job Xplenty did start.
func TestE2EUnknownOutcomeIsNotRetried(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.xp.DropNextAnswers(1)
	e.command("U1", "C1", "cluster=52 package=434 DATE=2026-11-01")
	c := e.waitCard(1001, "idle")
	said := false
	for _, v := range c.History {
		said = said || strings.Contains(v.Text, "may have started")
	}
	if !said {
		t.Errorf("the card never said the job may have started: %+v", c.History)
	}
	e.setStatus(1001, xplenty.StatusCompleted)
	e.waitReplies(c, 1)
	if n := e.runs(); n != 1 {
		t.Errorf("%d run requests, want exactly 1 (never retried)", n)
	}
}

// Two jobs fit the lost answer: the bot does not guess.
func TestE2EUnknownOutcomeDoesNotGuess(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	// Someone else started the same run in Xplenty a moment ago.
	if _, err := e.xp.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434}); err != nil {
		t.Fatal(err)
	}
	e.xp.DropNextAnswers(1)
	e.command("U1", "C1", "cluster=52 package=434")
	e.wait("the may-have-started card", func(s *slacktest.Snapshot) bool {
		for _, m := range s.Messages() {
			if strings.Contains(m.Text, "may have started") {
				return true
			}
		}
		return false
	})
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(e.logs.String(), "not guessing") {
		if time.Now().After(deadline) {
			t.Fatalf("the bot did not decide; logs:\n%s", e.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, id := range []int64{1001, 1002} {
		if _, ok := card(e.slack.Snapshot(), id); ok {
			t.Errorf("the bot adopted job %d, one of two that could be the lost run", id)
		}
	}
	if n := e.runs(); n != 1 {
		t.Errorf("%d run requests, want exactly 1", n)
	}
}

func TestE2ENotInChannelStartsNothing(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.slack.SetNotInChannel("C9")
	e.startBot()
	e.command("U1", "C9", "cluster=52 package=434")
	e.waitEphemeral("U1", "/invite")
	if n := e.runs(); n != 0 {
		t.Errorf("%d run requests, want 0: nobody could follow the job", n)
	}
}

func TestE2ERedeliveredEnvelopeStartsOneJob(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	id := e.command("U1", "C1", "cluster=52 package=434")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := e.slack.Redeliver(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.waitCard(1001, "idle")
	e.settle()
	if n := e.runs(); n != 1 {
		t.Errorf("%d run requests for one redelivered command, want 1", n)
	}
}

// A bot stopped while its job runs; the job ends while no bot is up; a new
// bot on the same Redis reports it, once.
func TestE2ERestartReportsJobFinishedWhileDown(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	stop := e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	c := e.waitCard(1001, "idle")
	stop()
	e.setStatus(1001, xplenty.StatusCompleted)
	e.startBot()
	e.waitReplies(c, 1)
	e.settle()
	if n := len(e.slack.ThreadReplies(c.Channel, c.TS)); n != 1 {
		t.Errorf("%d thread replies after the restart, want 1", n)
	}
}

// Two replicas on one Redis: the same event delivered to both starts one
// job, and its end is reported once.
func TestE2ETwoReplicasOneJobOneReply(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.startBot()
	if err := e.slack.WaitConnections(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	id := e.command("U1", "C1", "cluster=52 package=434")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := e.slack.Broadcast(ctx, id); err != nil {
		t.Fatal(err)
	}
	c := e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusRunning)
	e.setStatus(1001, xplenty.StatusCompleted)
	e.waitReplies(c, 1)
	e.settle()
	if n := e.runs(); n != 1 {
		t.Errorf("%d run requests, want 1", n)
	}
	if n := len(e.slack.ThreadReplies(c.Channel, c.TS)); n != 1 {
		t.Errorf("%d thread replies from two replicas, want 1", n)
	}
}

func TestE2EBurstOf60Commands(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ids := make([]string, 60)
	for i := range ids {
		id, err := e.slack.SendSlashCommand(ctx, slacktest.SlashCommand{UserID: "U1", ChannelID: "C1", Text: fmt.Sprintf("cluster=52 package=434 N=%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	for _, id := range ids {
		if _, err := e.slack.WaitAck(ctx, id); err != nil {
			t.Fatalf("envelope %s not acked: %v", id, err)
		}
	}
	e.wait("60 cards with job ids", func(s *slacktest.Snapshot) bool {
		for id := int64(1001); id < 1061; id++ {
			if _, ok := card(s, id); !ok {
				return false
			}
		}
		return true
	})
	if n := e.runs(); n != 60 {
		t.Errorf("%d run requests, want 60", n)
	}
}

// SIGTERM while a run request is in flight: the bot stops taking commands,
// finishes the command (the job is tracked and its card filled), and exits
// cleanly.
func TestE2EShutdownFinishesWorkInFlight(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	stop := e.startBot()
	e.xp.SetLatency(time.Second)
	e.command("U1", "C1", "cluster=52 package=434")
	e.wait("the starting card", func(s *slacktest.Snapshot) bool {
		for _, m := range s.Messages() {
			if strings.Contains(m.Text, "starting") {
				return true
			}
		}
		return false
	})
	stop() // fails the test if serve returns an error or hangs
	if _, ok := card(e.slack.Snapshot(), 1001); !ok {
		t.Errorf("the card of the job started during shutdown was not filled:\n%s", dump(e.slack.Messages()))
	}
	if n, _ := e.rdb.Exists(context.Background(), e.cfg.RedisPrefix+"job:1001").Result(); n != 1 {
		t.Error("the job started during shutdown is not tracked")
	}
}

// Redis restarts while a job runs: nothing is lost, nothing is doubled.
func TestE2ERedisRestartLosesNothing(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	srv := redistest.Start(t)
	e.cfg.Redis = config.SingleRedis(&redis.Options{Addr: srv.Addr})
	e.rdb = srv.Client()
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	c := e.waitCard(1001, "idle")
	srv.Restart()
	e.setStatus(1001, xplenty.StatusRunning)
	e.setStatus(1001, xplenty.StatusCompleted)
	e.waitReplies(c, 1)
	e.settle()
	if n := len(e.slack.ThreadReplies(c.Channel, c.TS)); n != 1 {
		t.Errorf("%d thread replies across a Redis restart, want 1", n)
	}
	// The bot still takes commands once Redis is back.
	e.command("U1", "C1", "cluster=52 package=434")
	e.waitCard(1002, "idle")
}
