package shell

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// shellSession drives the shell through pipes, as a person or a script
// would.
type shellSession struct {
	t      *testing.T
	in     *io.PipeWriter
	out    *io.PipeWriter
	stderr *syncBuffer
	done   chan error
	read   chan struct{} // closed when stdout is read to its end

	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
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

// clearShellEnv keeps the developer's environment out of the test: the
// shell must use its sandbox and embedded Redis.
func clearShellEnv(t *testing.T) {
	for _, v := range []string{
		"REDIS_URL", "REDIS_PREFIX", "XPLENTY_ACCOUNT_ID", "XPLENTY_API_KEY", "XPLENTY_API_URL",
		"ALLOWED_USERS", "ALLOWED_CHANNELS", "POLL_INTERVAL", "LOG_LEVEL", "SECRET_PATTERN", "RUNJOB_POLICY",
	} {
		t.Setenv(v, "")
	}
}

// fastShellOptions makes sandbox jobs take about 4 s and never fail, and polls
// often, so a whole session takes seconds.
func fastShellOptions() Options {
	return Options{
		lifecycle: &xplentytest.Lifecycle{
			Pending: 50 * time.Millisecond, Running: 50 * time.Millisecond, RunTime: 4 * time.Second,
			StopDelay: 200 * time.Millisecond, FailureRate: 0, Seed: 1,
		},
		pollInterval: 100 * time.Millisecond,
		drain:        30 * time.Second,
	}
}

// startShell runs the shell; start is run or Run.
func startShell(t *testing.T, start func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error) *shellSession {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &shellSession{
		t: t, in: inW, out: outW, stderr: &syncBuffer{},
		done: make(chan error, 1), read: make(chan struct{}), changed: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(s.read)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
		}
	}()
	go func() {
		err := start(ctx, inR, outW, s.stderr)
		outW.Close()
		s.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("the shell did not stop after its context was cancelled")
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", s.transcript(), s.stderr.String())
		}
	})
	return s
}

func (s *shellSession) transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

func (s *shellSession) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatalf("type %q: %v", line, err)
	}
}

// waitLine waits for an output line that pred accepts, looking at every
// line printed so far. The deadline only guards against a hang.
func (s *shellSession) waitLine(what string, pred func(string) bool) string {
	s.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		s.mu.Lock()
		for _, l := range s.lines {
			if pred(l) {
				s.mu.Unlock()
				return l
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-s.read:
			s.mu.Lock()
			ok := shellAnyLine(s.lines, pred)
			s.mu.Unlock()
			if !ok {
				s.t.Fatalf("the shell ended without printing %s", what)
			}
		case <-deadline:
			s.t.Fatalf("no output line with %s", what)
		}
	}
}

func shellAnyLine(lines []string, pred func(string) bool) bool {
	for _, l := range lines {
		if pred(l) {
			return true
		}
	}
	return false
}

// has matches lines containing every part.
func shellHas(parts ...string) func(string) bool {
	return func(l string) bool {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				return false
			}
		}
		return true
	}
}

// finish ends the input and waits for the shell to return.
func (s *shellSession) finish() error {
	s.t.Helper()
	s.in.Close()
	select {
	case err := <-s.done:
		s.done <- err // for Cleanup
		<-s.read
		return err
	case <-time.After(90 * time.Second):
		s.t.Fatal("the shell did not return after the end of its input")
		return nil
	}
}

func TestShellRunRerunStop(t *testing.T) {
	clearShellEnv(t)
	s := startShell(t, func(ctx context.Context, in io.Reader, out, errOut io.Writer) error {
		return Run(ctx, nil, in, out, errOut, fastShellOptions())
	})
	s.waitLine("the banner", shellHas("sandbox", "embedded Redis"))

	s.send("/runjob cluster=52 package=434 DATE=2026-11-01 DB_PASSWORD=hunter22")
	s.waitLine("the card's variables, the secret masked", shellHas("DATE = 2026-11-01", "DB_PASSWORD = "+render.Mask))
	s.waitLine("the card's buttons as shell commands", shellHas("actions: :stop 1001 · :rerun 1001"))
	s.waitLine("a progress edit", shellHas("[#sandbox] runjob (edited card of job 1001): 🏃 running"))
	s.waitLine("job 1001's completion in its thread", shellHas("[#sandbox thread of job 1001] runjob: ✅ @you Job 1001", "completed"))

	s.send(":rerun 1001")
	s.waitLine("the click", shellHas("[shell] clicked Re-run on the card of job 1001"))
	s.waitLine("the new card saying it is a re-run", shellHas("Re-run of: job 1001"))
	s.waitLine("the note in the old thread", shellHas("[#sandbox thread of job 1001]", "re-ran this job as job 1002"))
	s.waitLine("job 1002 running", shellHas("(edited card of job 1002): 🏃 running"))

	s.send(":stop 1002")
	s.waitLine("the stop click", shellHas("[shell] clicked Stop on the card of job 1002 and confirmed"))
	s.waitLine("job 1002 stopped, in its thread", shellHas("[#sandbox thread of job 1002] runjob: ⏹️ @you Job 1002", "was stopped by @you"))
	// Replies go first: the card's edit may follow its reply.
	s.waitLine("job 1002's card stopped", shellHas("(edited card of job 1002): ⏹️ stopped"))

	s.send(":stop 1002")
	s.waitLine("a note that the Stop button is gone", shellHas("[shell] the card of job 1002 has no Stop button any more"))
	s.send(":jobs")
	s.waitLine("job 1001 in the list", shellHas("job 1001: ✅ completed", ":rerun 1001"))

	if err := s.finish(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	out := s.transcript()
	if strings.Contains(out, "hunter22") {
		t.Error("a secret value was printed")
	}
	if n := strings.Count(out, "thread of job 1001] runjob: ✅"); n != 1 {
		t.Errorf("job 1001's completion was printed %d times, want once", n)
	}
	if strings.Contains(out, "\033[") {
		t.Error("terminal escapes in piped output")
	}
	if strings.Contains(s.stderr.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", s.stderr.String())
	}
}

func TestShellBadInputAndShellCommands(t *testing.T) {
	clearShellEnv(t)
	// The real entry point, with the sandbox's defaults: no job starts, so
	// nothing waits for one.
	s := startShell(t, func(ctx context.Context, in io.Reader, out, errOut io.Writer) error {
		return Run(ctx, nil, in, out, errOut, Options{})
	})
	s.waitLine("the banner's first example", shellHas("/runjob cluster=52 package=434 DATE=2026-11-01"))

	s.send("/runjob cluster=5.2 package=1")
	s.waitLine("the error, only to the user", func(l string) bool {
		return strings.HasPrefix(l, "[only you] runjob: `cluster=5.2`") && strings.Contains(l, "cluster=52")
	})
	s.send(":as bob")
	s.waitLine("a refused user id", shellHas(`[shell] "bob" is not a Slack user id`))
	s.send(":as U0EVE")
	s.waitLine("the new identity", shellHas("[shell] you are now @u0eve (U0EVE)"))
	s.send(":in general")
	s.waitLine("a refused channel id", shellHas(`[shell] "general" is not a Slack channel id`))
	s.send(":in C0DATA")
	s.waitLine("the new channel", shellHas("[shell] you are now in #c0data (C0DATA)"))
	s.send(":stop 1001")
	s.waitLine("no such card", shellHas("[shell] there is no card of job 1001 in #c0data"))
	s.send(":rerun x")
	s.waitLine("a bad job id", shellHas(`[shell] "x" is not a job id`))
	s.send(":frobnicate")
	s.waitLine("an unknown shell command", shellHas("[shell] unknown shell command :frobnicate"))
	s.send("cluster=52 package=434")
	s.waitLine("a hint to type /runjob", shellHas("[shell] type /runjob"))
	s.send(":help")
	s.waitLine("the help", shellHas(":stop [job id]"))

	if err := s.finish(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	if out := s.transcript(); strings.Contains(out, "Starting package") || strings.Contains(out, "Job 10") {
		t.Errorf("a job was started:\n%s", out)
	}
}

func TestShellAllowlistAndQuit(t *testing.T) {
	clearShellEnv(t)
	t.Setenv("ALLOWED_USERS", selfUser)
	s := startShell(t, func(ctx context.Context, in io.Reader, out, errOut io.Writer) error {
		return Run(ctx, nil, in, out, errOut, fastShellOptions())
	})
	s.send(":as U0EVE")
	s.send("/runjob cluster=52 package=434")
	s.waitLine("the refusal, only to Eve", shellHas("[only you] runjob: ", "not allowed"))
	s.send(":as you")
	s.send("/runjob list")
	s.waitLine("the list answer to the allowed user", shellHas("[only you] runjob: No jobs were started from this channel yet"))
	s.send(":quit")
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Fatalf("run returned %v after :quit", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the shell did not leave on :quit")
	}
}

func TestShellSettings(t *testing.T) {
	envOf := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}

	s, err := settings(envOf(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.sandbox || !s.embedded || s.cfg.PollInterval != time.Second || s.cfg.LogLevel != slog.LevelWarn ||
		s.cfg.HTTPAddr != "" || s.cfg.RedisPrefix != "runjob:" || s.cfg.Retention != 720*time.Hour ||
		strings.Join(s.cfg.AllowedUsers, ",") != "*" || strings.Join(s.cfg.AllowedChannels, ",") != "*" ||
		s.cfg.SecretPattern == "" {
		t.Errorf("defaults: %+v", s)
	}

	s, err = settings(envOf(
		"XPLENTY_ACCOUNT_ID", "acme", "XPLENTY_API_KEY", "k", "REDIS_URL", "redis://:pw@db:6379/2",
		"ALLOWED_USERS", "U1,U2", "POLL_INTERVAL", "5s", "LOG_LEVEL", "debug",
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.sandbox || s.embedded || s.cfg.XplentyURL != "https://api.xplenty.com/" || s.cfg.Redis.Addr != "db:6379" ||
		s.cfg.RedisPrefix != redisPrefix || strings.Join(s.cfg.AllowedUsers, ",") != "U1,U2" ||
		s.cfg.PollInterval != 5*time.Second || s.cfg.LogLevel != slog.LevelDebug {
		t.Errorf("from the environment: %+v", s)
	}

	_, err = settings(envOf(
		"XPLENTY_API_KEY", "secret-key", "REDIS_URL", "http://:hunter2@x", "POLL_INTERVAL", "soon", "LOG_LEVEL", "loud",
	), Options{})
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"XPLENTY_ACCOUNT_ID and XPLENTY_API_KEY", "REDIS_URL", "POLL_INTERVAL", "LOG_LEVEL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
	for _, secret := range []string{"secret-key", "hunter2"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
}

func shellTestText() renderer {
	return renderer{userName: userLabel, channelName: channelLabel}
}

func TestShellMrkdwn(t *testing.T) {
	st := shellTestText()
	tests := []struct{ in, want string }{
		{"*Job 1001* · running `▓▓░░ 20%`", "Job 1001 · running ▓▓░░ 20%"},
		{"<@U0SHELL> and <@U0EVE> and <@U1|bob>", "@you and @u0eve and @bob"},
		{"in <#C0SANDBOX> or <#C1|data>", "in #sandbox or #data"},
		{"<https://x.example/jobs/1|Open in Xplenty> <https://y.example>", "Open in Xplenty (https://x.example/jobs/1) https://y.example"},
		{"<!date^1700000000^{date_short}|2023-11-14T22:13:20Z> <!here>", "2023-11-14T22:13:20Z @here"},
		{"a &lt;b&gt; &amp;amp; c", "a <b> &amp; c"},
		{"_and 3 more_ ~gone~", "and 3 more gone"},
		{"```\nline 1 *not bold*\nline 2 &lt;x&gt;\n```", "line 1 *not bold*\nline 2 <x>"},
		{"DB_PASSWORD_OLD stays", "DB_PASSWORD_OLD stays"},
		{"a letter or _, digits and _; 2 * 3 * 4", "a letter or _, digits and _; 2 * 3 * 4"},
	}
	for _, tt := range tests {
		if got := st.mrkdwn(tt.in, false); got != tt.want {
			t.Errorf("mrkdwn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := st.mrkdwn("`cluster=abc`: wrong", true); got != "`cluster=abc`: wrong" {
		t.Errorf("prose lost its code quotes: %q", got)
	}
}

func shellBlocksJSON(t *testing.T, m render.Message) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(slack.Blocks{BlockSet: m.Blocks})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestShellRenderCard(t *testing.T) {
	st := shellTestText()
	rec := job.Record{
		JobID: 1001, Channel: homeChannel, Requester: selfUser, Run: commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DATE": "2026-11-01", "DB_PASSWORD": "hunter22"}, SecretNames: []string{"DB_PASSWORD"}},
		Status: xplenty.StatusRunning, Progress: 0.4, HTMLURL: "https://app.xplenty.com/acme/jobs/1001",
	}
	card := render.Card(rec)
	r := st.message(card.Text, shellBlocksJSON(t, card))
	want := []string{
		"🏃 Job 1001 · running ▓▓▓▓░░░░░░ 40%",
		"Package: 434 · Cluster: 52 · Requested by: @you",
		"Variables: DATE = 2026-11-01 · DB_PASSWORD = ••••",
		"Open in Xplenty (https://app.xplenty.com/acme/jobs/1001)",
	}
	if strings.Join(r.lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("card lines:\n%s\nwant:\n%s", strings.Join(r.lines, "\n"), strings.Join(want, "\n"))
	}
	if strings.Join(r.actions, " · ") != ":stop 1001 · :rerun 1001" || r.jobID != 1001 {
		t.Errorf("actions %q, job %d", r.actions, r.jobID)
	}
	if got := editLine(r); got != "🏃 running ▓▓▓▓░░░░░░ 40%" {
		t.Errorf("edit line %q", got)
	}

	rec.Status, rec.Errors, rec.Runtime = xplenty.StatusFailed, "Failed to read from source 'orders':\nAccess denied <for> hunter22", 7*time.Second
	reply := render.Reply(rec)
	r = st.message(reply.Text, shellBlocksJSON(t, reply))
	got := strings.Join(r.lines, "\n")
	for _, w := range []string{
		"❌ @you Job 1001 (package 434 on cluster 52) failed after 7s.",
		"Failed to read from source 'orders':\nAccess denied <for> ••••",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("failure reply:\n%s\nlacks %q", got, w)
		}
	}

	// A message without blocks is its text; the job id comes from it.
	r = st.message("Job 77 (package 1 on cluster 2): completed", nil)
	if r.jobID != 77 || r.lines[0] != "Job 77 (package 1 on cluster 2): completed" {
		t.Errorf("text-only message: %+v", r)
	}
}

func TestShellMaskSecrets(t *testing.T) {
	sh := &chat{secrets: mustShellSecrets(t, config.ServeDefaults()["SECRET_PATTERN"])}
	tests := []struct{ in, want string }{
		// A run is echoed as the grammar reads it, in canonical order.
		{`/runjob cluster=52 package=434 DATE=2026-11-01 DB_PASSWORD="a b\" c" api_key='x y' T:=$TOKEN MY_TOKEN:=Secret() pass=“p q” NOTE=ok`,
			`/runjob cluster=52 package=434 DATE=2026-11-01 DB_PASSWORD=•••• NOTE=ok api_key=•••• pass=•••• MY_TOKEN:=•••• T:=$TOKEN`},
		{"/runjob cluster=52 package=434\u00a0PASSWORD=hunter2", `/runjob cluster=52 package=434 PASSWORD=••••`},
		{"/runjob cluster=52 package=434\u200bPASSWORD=hunter2", `/runjob cluster=52 package=434 PASSWORD=••••`},
		{"/runjob\u200bPASSWORD=hunter2 cluster=52 package=434", `/runjob cluster=52 package=434 PASSWORD=••••`},
		{`/runjob nightly DB_PASSWORD=hunter2 DATE=2026-11-01`, `/runjob nightly DATE=2026-11-01 DB_PASSWORD=••••`},
		// What the grammar refuses is hidden when it could hold a value.
		{`/runjob cluster=52 package=434 PASSWORD="hunter2 and more`, "/runjob " + hidden},
		{`/runjob cluster=52 package=434 PASSWORD=hunter2 PASSWORD=again`, "/runjob " + hidden},
		{`/runjob stauts 1001`, `/runjob stauts 1001`},
		// Other commands as typed; other slash commands and lines without
		// a command are masked the same way.
		{`/runjob status #1001`, `/runjob status #1001`},
		{`/runjob`, `/runjob`},
		{`:as U0EVE`, `:as U0EVE`},
		{`/runjbo cluster=52 package=434 SECRET_X=hunter2`, `/runjbo cluster=52 package=434 SECRET_X=••••`},
		{`cluster=52 package=434 TOKEN=hunter2`, `cluster=52 package=434 TOKEN=••••`},
		{`/runjob=PASSWORD=hunter2`, hidden},
	}
	for _, tt := range tests {
		got := sh.maskSecrets(tt.in)
		if got != tt.want {
			t.Errorf("maskSecrets(%q):\n got %s\nwant %s", tt.in, got, tt.want)
		}
		for _, secret := range []string{"hunter2", "ghi", "cd'", "abc", "a b", "p q", "x y"} {
			if strings.Contains(got, secret) {
				t.Errorf("maskSecrets(%q) = %q shows %q", tt.in, got, secret)
			}
		}
	}

	// The values the regular expression got wrong. Whether the grammar
	// reads them (and the value is masked) or refuses them (and the line is
	// hidden), no piece of the value is shown.
	for _, in := range []string{
		`/runjob cluster=52 package=434 PASSWORD=abc"def ghi"`,
		`/runjob cluster=52 package=434 PASSWORD='ab\'cd'`,
		"/runjob cluster=52 package=434 \u00a0PASSWORD=abc\"def ghi\"",
		"/runjob cluster=52 package=434 \u200bPASSWORD='ab\\'cd'",
	} {
		got := sh.maskSecrets(in)
		if got != "/runjob cluster=52 package=434 PASSWORD=••••" && got != "/runjob "+hidden {
			t.Errorf("maskSecrets(%q) = %q, want the value masked or the line hidden", in, got)
		}
		for _, piece := range []string{"abc", "def", "ghi", "ab", "cd"} {
			if strings.Contains(got, piece) {
				t.Errorf("maskSecrets(%q) = %q shows %q", in, got, piece)
			}
		}
	}

	// The text is read as Slack sends it (& < > typed are plain text): the
	// echo reads back as the run the bot gets.
	in := `cluster=52 package=434 Q="a&b" R=&lt;x&gt; S=<y> KEY=&amp;`
	got := sh.maskSecrets("/runjob " + in)
	sent, err := commands.Parse(slacktest.EscapeText(in))
	if err != nil {
		t.Fatal(err)
	}
	run := sent.(commands.Run)
	run.Variables["KEY"] = render.Mask
	if echoed, err := commands.Parse(slacktest.EscapeText(strings.TrimPrefix(got, "/runjob "))); err != nil || !reflect.DeepEqual(echoed, run) {
		t.Errorf("the echo %q reads back as %#v (%v), want %#v", got, echoed, err, run)
	}

	// The policy file's secret variables are masked too.
	secrets, err := policy.NewSecrets("^$", []string{"REGION"})
	if err != nil {
		t.Fatal(err)
	}
	sh = &chat{secrets: secrets}
	if got := sh.maskSecrets("/runjob cluster=1 package=2 REGION=eu DATE=x"); got != "/runjob cluster=1 package=2 DATE=x REGION=••••" {
		t.Errorf("policy secrets: %s", got)
	}
	// One rule: a name the rule does not call secret is shown, even one
	// the default pattern would have hidden.
	if got := sh.maskSecrets("/runjob cluster=1 package=2 REGION=eu API_KEY=k1"); got != "/runjob cluster=1 package=2 API_KEY=k1 REGION=••••" {
		t.Errorf("with SECRET_PATTERN='^$': %s", got)
	}
}

func mustShellSecrets(t *testing.T, pattern string) *policy.Secrets {
	t.Helper()
	s, err := policy.NewSecrets(pattern, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShellSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text · ✅ ok\n\tindented", "plain text · ✅ ok\n\tindented"},
		{"\x1b]52;c;aGVsbG8=\x07 clipboard", `\x1b]52;c;aGVsbG8=\x07 clipboard`},
		{"\x1b[2J\x1b[H cleared", `\x1b[2J\x1b[H cleared`},
		{"over\rwrite\x7f\x00", `over\x0dwrite\x7f\x00`},
		{"c1 \u009b2J \u0085", `c1 \x9b2J \x85`},
		{"bidi \u202eexe.txt\u202c \u2066x\u2069", `bidi \u202eexe.txt\u202c \u2066x\u2069`},
		{"raw \x9b byte", "raw \ufffd byte"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Whatever a message in Slack holds (the bot's reply quoting Xplenty's
// error, say), the printer shows its control characters, not obeys them.
func TestShellPrinterControlChars(t *testing.T) {
	fake := slacktest.New(slacktest.Options{})
	defer fake.Close()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()), slack.OptionHTTPClient(&http.Client{Transport: transport}))
	errText := "Failed to write to 'out': \x1b]52;c;cm0gLXJmIH4=\x07 then \x1b[2J\x1b[3J and \u202etxt.exe"
	_, _, err := api.PostMessage(homeChannel, slack.MsgOptionText("Job 1001 failed: "+errText, false), slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "❌ Job 1001 failed\n```\n"+errText+"\n```", false, false), nil, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sh := &chat{fake: fake, con: newConsole(strings.NewReader(""), &out), user: selfUser, channel: homeChannel, text: shellTestText()}
	pr := &printer{sh: sh, seen: map[string]int{}, last: map[string]string{}}
	pr.render(fake.Snapshot())
	got := out.String()
	if strings.ContainsAny(got, "\x1b\x07\u202e") {
		t.Errorf("control characters reached the terminal:\n%q", got)
	}
	if want := `Failed to write to 'out': \x1b]52;c;cm0gLXJmIH4=\x07 then \x1b[2J\x1b[3J and \u202etxt.exe`; !strings.Contains(got, want) {
		t.Errorf("printed:\n%s\nwant a line with %s", got, want)
	}
}

// Xplenty's error text reaches the terminal through a Slack message; its
// control sequences are shown, not obeyed.
func TestShellXplentyErrorControlChars(t *testing.T) {
	clearShellEnv(t)
	opts := fastShellOptions()
	opts.lifecycle.RunTime = time.Hour // the test ends the job
	sandbox := make(chan *xplentytest.Server, 1)
	opts.onSandbox = func(s *xplentytest.Server) { sandbox <- s }
	s := startShell(t, func(ctx context.Context, in io.Reader, out, errOut io.Writer) error {
		return Run(ctx, nil, in, out, errOut, opts)
	})
	sb := <-sandbox
	s.send("/runjob cluster=52 package=434")
	s.waitLine("the card", shellHas("actions: :stop 1001"))
	errText := "Failed to write to 'out': \x1b]52;c;cm0gLXJmIH4=\x07 then \x1b[2J\x1b[3J and \u202etxt.exe"
	if err := sb.SetErrors(1001, errText); err != nil {
		t.Fatal(err)
	}
	if err := sb.SetStatus(1001, xplenty.StatusFailed); err != nil {
		t.Fatal(err)
	}
	// The notifier may drop some of them itself; none reaches the terminal.
	s.waitLine("the failure", shellHas("Failed to write to 'out':", "txt.exe"))
	if err := s.finish(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	if out := s.transcript(); strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("control characters reached the terminal:\n%q", out)
	}
}

// The shell types like Slack: & < > arrive escaped and the grammar
// unescapes them, so the value typed is the value Xplenty gets.
func TestShellTextReachesXplentyAsTyped(t *testing.T) {
	clearShellEnv(t)
	opts := fastShellOptions()
	sandbox := make(chan *xplentytest.Server, 1)
	opts.onSandbox = func(s *xplentytest.Server) { sandbox <- s }
	s := startShell(t, func(ctx context.Context, in io.Reader, out, errOut io.Writer) error {
		return Run(ctx, nil, in, out, errOut, opts)
	})
	sb := <-sandbox
	s.send(`/runjob cluster=52 package=434 Q="a&b" R=&lt;x&gt; S=<y>`)
	s.waitLine("the card", shellHas("actions: :stop 1001"))
	j, ok := sb.Job(1001)
	if !ok {
		t.Fatal("no job 1001 in the sandbox")
	}
	want := map[string]string{"Q": "a&b", "R": "&lt;x&gt;", "S": "<y>"}
	for name, v := range want {
		if j.Variables[name] != v {
			t.Errorf("Xplenty got %s=%q, want %q (all: %q)", name, j.Variables[name], v, j.Variables)
		}
	}
	if err := s.finish(); err != nil {
		t.Fatalf("run returned %v", err)
	}
}

func TestShellLabelsAndIDs(t *testing.T) {
	for in, ok := range map[string]bool{"U0EVE": true, "W123": true, "C123": false, "bob": false, "U1": false, "u0eve": false} {
		if userIDShape.MatchString(in) != ok {
			t.Errorf("user id %q: valid=%v", in, !ok)
		}
	}
	for in, ok := range map[string]bool{"C0DATA": true, "G123": true, "D123": true, "U123": false, "general": false, "GENERAL": true} {
		if channelIDShape.MatchString(in) != ok {
			t.Errorf("channel id %q: valid=%v", in, !ok)
		}
	}
}

// At end of piped input the shell waits for a job whose card still says
// "starting…" (its id reaches the card through an edit that may lag the
// command), not only for jobs whose card already shows their id.
func TestShellEndOfInputWaitsForAJobJustStarted(t *testing.T) {
	clearShellEnv(t)
	s := startShell(t, func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
		return Run(ctx, nil, stdin, stdout, stderr, fastShellOptions())
	})
	s.send("/runjob cluster=52 package=434")
	s.send("/runjob stop 1001")
	s.in.Close()
	select {
	case <-s.read: // the shell ended and closed its output
	case <-time.After(60 * time.Second):
		t.Fatal("the shell did not end after its input")
	}
	if got := s.transcript(); !strings.Contains(got, "Job 1001 (package 434 on cluster 52) was stopped by @you") {
		t.Errorf("the shell left before job 1001's stop reply:\n%s", got)
	}
}
