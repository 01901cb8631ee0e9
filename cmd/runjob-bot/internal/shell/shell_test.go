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
		"REDIS_URL", "REDIS_MODE", "REDIS_PREFIX", "XPLENTY_ACCOUNT_ID", "XPLENTY_API_KEY", "XPLENTY_API_URL",
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
		// The bot answers a form at once; a busy machine may delay it.
		formWait: 60 * time.Second,
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
	if s.sandbox || s.embedded || s.cfg.XplentyURL != "https://api.xplenty.com/" || s.cfg.Redis.Single.Addr != "db:6379" ||
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
	// The reply names the package and cluster as the catalog knows them.
	if got := s.transcript(); !shellAnyLine(strings.Split(got, "\n"), shellHas("[#sandbox thread of job 1001] runjob: ⏹️ @you Job 1001 (", "was stopped by @you")) {
		t.Errorf("the shell left before job 1001's stop reply:\n%s", got)
	}
}

// shellCount counts the output lines that pred accepts.
func (s *shellSession) count(pred func(string) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.lines {
		if pred(l) {
			n++
		}
	}
	return n
}

// waitCount waits until n output lines are accepted by pred.
func (s *shellSession) waitCount(what string, n int, pred func(string) bool) {
	s.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if s.count(pred) >= n {
			return
		}
		select {
		case <-changed:
		case <-s.read:
			if s.count(pred) < n {
				s.t.Fatalf("the shell ended without printing %s", what)
			}
		case <-deadline:
			s.t.Fatalf("no %s", what)
		}
	}
}

func shellIs(want string) func(string) bool { return func(l string) bool { return l == want } }

// :form fills in the bot's run form from the shell's input: a search and
// a pick, the variables the bot fills in, a line the bot refuses, the fix,
// and the job's card.
func TestShellForm(t *testing.T) {
	clearShellEnv(t)
	opts := fastShellOptions()
	sandbox := make(chan *xplentytest.Server, 1)
	opts.onSandbox = func(s *xplentytest.Server) { sandbox <- s }
	s := startShell(t, func(ctx context.Context, in io.Reader, out, errOut io.Writer) error {
		return Run(ctx, nil, in, out, errOut, opts)
	})
	sb := <-sandbox

	s.send(":form")
	s.waitLine("the form's title", shellIs("[form] Run an Xplenty job"))
	s.waitLine("the package, none chosen", shellIs("  Package: (none chosen)"))
	s.waitLine("the cluster picker's options, numbered", shellIs("    1. prod-etl (52) · available"))
	s.waitLine("the package's question", shellHas("[form] Package: type part of a name or an id to search"))

	s.send("") // lists them all
	s.waitLine("every package", shellIs("    4. orders_daily (434)"))
	s.send("ord")
	s.waitLine("the packages found", shellIs("    2. orders_daily (434)"))
	s.send("2")
	s.waitLine("the choice", shellIs("[form] Package: orders_daily (434)"))
	s.waitLine("the variables the bot filled in", shellIs("[form] the bot filled in the form:"))
	s.waitLine("a declared variable", shellIs("    FULL_REFRESH=false"))
	s.waitLine("the bot's note", shellIs("  orders_daily declares DATE, FULL_REFRESH, REGION."))

	s.waitLine("the cluster's question", shellHas("[form] Cluster: type a number"))
	s.send("1")
	s.waitLine("the cluster chosen", shellIs("[form] Cluster: prod-etl (52) · available"))

	s.waitLine("the variables' question", shellIs("[form] Variables now:"))
	for _, l := range []string{"DATE=2026-11-02", "MSG=hello world", "DB_PASSWORD=hunter22", ""} {
		s.send(l)
	}
	s.waitLine("the bot's refusal", shellIs("[form] the bot did not take the form:"))
	s.waitLine("the error on the variables", shellHas("  Variables: ", "line 2: one variable a line"))
	s.waitCount("the variables asked again", 2, shellIs("[form] Variables now:"))
	for _, l := range []string{"DATE=2026-11-02", `MSG="hello world"`, "DB_PASSWORD=hunter22", ""} {
		s.send(l)
	}
	s.waitLine("the form closed", shellIs("[form] the bot took the form and closed it"))
	s.waitLine("the card", shellHas("[#sandbox] runjob: ⏳ Starting ", "434"))
	s.waitLine("the card's variables", shellHas("DATE = 2026-11-02", "DB_PASSWORD = ••••", "MSG = hello world"))
	s.waitLine("the card's buttons", shellHas("actions: :stop 1001"))

	j, ok := sb.Job(1001)
	if !ok {
		t.Fatal("no job 1001 in the sandbox")
	}
	if j.PackageID != 434 || j.ClusterID != 52 || j.Variables["DATE"] != "2026-11-02" || j.Variables["MSG"] != "hello world" ||
		j.Variables["DB_PASSWORD"] != "hunter22" {
		t.Errorf("Xplenty ran package %d on cluster %d with DATE=%q MSG=%q and the secret typed: %v",
			j.PackageID, j.ClusterID, j.Variables["DATE"], j.Variables["MSG"], j.Variables["DB_PASSWORD"] == "hunter22")
	}
	if err := s.finish(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	out := s.transcript()
	if strings.Contains(out, "hunter22") {
		t.Error("a secret value was printed")
	}
	for _, want := range []string{
		"you@#sandbox> :form",
		"form package>\n    1. customers_sync (512)",
		"form package> ord\n",
		"form cluster> 1\n",
		"form variables> MSG=hello world\nform variables> DB_PASSWORD=••••\nform variables>\n",
		"form variables> MSG=\"hello world\"\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the transcript lacks %q", want)
		}
	}
	if n := strings.Count(out, "runjob: ⏳ Starting "); n != 1 {
		t.Errorf("%d cards, want 1", n)
	}
}

// :edit clicks Edit & re-run on the latest finished card and fills in the
// form the bot opens: a variable changed, the secret kept though never
// shown; :cancel-form and the end of input close a form.
func TestShellEditForm(t *testing.T) {
	clearShellEnv(t)
	opts := fastShellOptions()
	sandbox := make(chan *xplentytest.Server, 1)
	opts.onSandbox = func(s *xplentytest.Server) { sandbox <- s }
	s := startShell(t, func(ctx context.Context, in io.Reader, out, errOut io.Writer) error {
		return Run(ctx, nil, in, out, errOut, opts)
	})
	sb := <-sandbox

	s.send(":edit")
	s.waitLine("no card to edit yet", shellHas("[shell] no card in #sandbox has an Edit & re-run button"))
	s.send("/runjob cluster=52 package=434 DATE=2026-11-01 DB_PASSWORD=hunter22")
	s.waitLine("the finished card's buttons", shellHas("actions: :rerun 1001 · :edit 1001"))

	s.send(":edit")
	s.waitLine("the click", shellIs("[shell] clicked Edit & re-run on the card of job 1001"))
	s.waitLine("the form's title", shellIs("[form] Edit & re-run"))
	// Named as the job's record has them: the names, when the catalog
	// answered while the job started.
	s.waitLine("the package chosen", shellHas("  Package: ", "434"))
	s.waitLine("the cluster chosen", shellHas("  Cluster: ", "52"))
	s.waitLine("the secret, masked", shellIs("    DB_PASSWORD=••••"))
	s.send(".")
	s.send(".")
	s.waitLine("the variables' question", shellHas("a line NAME=•••• keeps that secret's value"))
	for _, l := range []string{"DATE=2026-11-02", "DB_PASSWORD=" + render.Mask, ""} {
		s.send(l)
	}
	s.waitLine("the form closed", shellIs("[form] the bot took the form and closed it"))
	s.waitLine("the new card", shellHas("Re-run of: job 1001"))
	s.waitLine("its variables", shellHas("DATE = 2026-11-02 · DB_PASSWORD = ••••"))
	s.waitLine("the new card's buttons", shellHas("actions: :stop 1002"))
	j, ok := sb.Job(1002)
	if !ok {
		t.Fatal("no job 1002 in the sandbox")
	}
	if j.Variables["DATE"] != "2026-11-02" || j.Variables["DB_PASSWORD"] != "hunter22" {
		t.Errorf("Xplenty ran DATE=%q, the secret kept: %v", j.Variables["DATE"], j.Variables["DB_PASSWORD"] == "hunter22")
	}

	s.send(":form")
	s.waitCount("a second form", 1, shellIs("[form] Run an Xplenty job"))
	s.send("ord")
	s.waitLine("the packages found", shellIs("    2. orders_daily (434)"))
	s.send(":jobs")
	s.waitLine("shell commands wait", shellIs("[form] :jobs waits until the form is done; :cancel-form closes the form"))
	s.send(":cancel-form")
	s.waitLine("the form closed by the person", shellIs("[form] closed the form; nothing was run"))
	s.send(":form")
	s.waitCount("a third form", 2, shellIs("[form] Run an Xplenty job"))
	if err := s.finish(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	out := s.transcript()
	if !strings.Contains(out, "[form] end of input\n[form] closed the form; nothing was run") {
		t.Error("the end of input did not close the form")
	}
	if strings.Contains(out, "hunter22") {
		t.Error("a secret value was printed")
	}
	if n := strings.Count(out, "Re-run of: job 1001"); n != 1 {
		t.Errorf("%d re-runs, want 1", n)
	}
}

func TestShellMaskVariables(t *testing.T) {
	sh := &chat{secrets: mustShellSecrets(t, config.ServeDefaults()["SECRET_PATTERN"])}
	tests := []struct{ in, want string }{
		{"DATE=2026-11-01\nNOW:=CurrentTime()", "DATE=2026-11-01\nNOW:=CurrentTime()"},
		{"DB_PASSWORD=hunter2\nAPI_TOKEN:=Secret()", "DB_PASSWORD=••••\nAPI_TOKEN:=••••"},
		{`DB_PASSWORD="hunter 2"`, "DB_PASSWORD=••••"},
		{"DB_PASSWORD=••••", "DB_PASSWORD=••••"},
		// Refused lines: shown when no word sets a secret, else hidden.
		{"MSG=hello world", "MSG=hello world"},
		{"DB_PASSWORD=hunter 2", hiddenLine},
		{"DATE=1 DB_PASSWORD=hunter2", hiddenLine},
		{"DB_PASSWORD =hunter2", hiddenLine},
		{"DB_PASSWORD= hunter2", hiddenLine},
		{"DATE=1\u00a0DB_PASSWORD=hunter2", hiddenLine},
		// A quote a line leaves open hides what follows, unless the whole
		// text reads: then it is shown canonical, masked.
		{"DB_PASSWORD=\"hunter\nX=2\nmore\"", "DB_PASSWORD=••••"},
		{"DATE=1\nDB_PASSWORD=\"hunter\nX=2\nmore\" junk", "DATE=1\n" + hiddenLine + "\n" + hiddenLine + "\n" + hiddenLine},
	}
	for _, tt := range tests {
		got := sh.maskVariables(tt.in)
		if got != tt.want {
			t.Errorf("maskVariables(%q):\n got %q\nwant %q", tt.in, got, tt.want)
		}
		for _, secret := range []string{"hunter", "Secret(", "more"} {
			if strings.Contains(got, secret) {
				t.Errorf("maskVariables(%q) = %q shows %q", tt.in, got, secret)
			}
		}
	}
}

// In a channel that hears nothing of its jobs (/runjob notify off), a job
// that ended has no thread reply to wait for: the reply was left out, and
// end of input must not wait for it nor call the job still running.
func TestShellEndOfInputWithNotifyOff(t *testing.T) {
	clearShellEnv(t)
	s := startShell(t, func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
		return Run(ctx, nil, stdin, stdout, stderr, fastShellOptions())
	})
	s.send("/runjob notify off")
	s.waitLine("the new setting", shellHas("`off`: no replies"))
	s.send("/runjob cluster=52 package=434")
	s.waitLine("job 1001's card completed", shellHas("(edited card of job 1001): ✅ completed"))
	if err := s.finish(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	if got := s.transcript(); strings.Contains(got, "still running") {
		t.Errorf("the shell took a job that ended, whose reply the channel's setting left out, for running:\n%s", got)
	}
}
