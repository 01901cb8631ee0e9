package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/xplenty"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden/*.json from the rendered messages")

var goldenCreated = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// freshRecord is a job the bot has just started.
func freshRecord() job.Record {
	return job.Record{
		JobID:     1001,
		Channel:   "C0RUNJOB",
		CardTS:    "1793523600.000100",
		Requester: "U123ABC",
		Run:       commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DATE": "2026-11-01"}},
		Status:    xplenty.StatusIdle,
		HTMLURL:   "https://app.xplenty.com/acme/jobs/1001",
		CreatedAt: goldenCreated,
		UpdatedAt: goldenCreated,
	}
}

// busyRecord has a preset, a secret by the pattern (DB_PASSWORD), one
// listed by the policy (API_LOGIN), both in SecretNames as the bot records
// them, a dynamic variable and a non-secret value that contains a secret.
func busyRecord() job.Record {
	r := freshRecord()
	r.Preset = "nightly"
	r.Variables = map[string]string{
		"DATE":        "2026-11-01",
		"REGION":      "eu-west-1",
		"DB_PASSWORD": "hunter2",
		"API_LOGIN":   "s3cr3t-login",
		"DB_URL":      "postgres://etl:hunter2@db.internal/warehouse",
	}
	r.SecretNames = []string{"API_LOGIN", "DB_PASSWORD"}
	r.DynamicVariables = map[string]string{"RUN_AT": "CurrentTime()"}
	r.Status = xplenty.StatusRunning
	r.Progress = 0.4
	return r
}

func withStatus(r job.Record, s xplenty.Status) job.Record {
	r.Status = s
	return r
}

func startingRequest() Starting {
	return Starting{
		Requester: "U123ABC",
		Run:       commands.Run{ClusterID: 52, PackageID: 434, Preset: "nightly", Variables: map[string]string{"DATE": "2026-11-01", "DB_PASSWORD": "hunter2"}, DynamicVariables: map[string]string{"RUN_AT": "CurrentTime()"}, SecretNames: []string{"DB_PASSWORD"}}, // secret names as the bot\'s rule lists them
	}
}

type goldenCase struct {
	name string
	msg  Message
}

func goldenCases() []goldenCase {
	queued := withStatus(freshRecord(), xplenty.StatusQueued)

	stopping := busyRecord()
	stopping.StopRequestedBy = "U456DEF"

	completed := withStatus(busyRecord(), xplenty.StatusCompleted)
	completed.Progress = 1
	completed.Runtime = 7*time.Minute + 2*time.Second

	failed := withStatus(freshRecord(), xplenty.StatusFailed)
	failed.Runtime = 63 * time.Second
	failed.Errors = "Component 'dest' failed: <!channel> ```DROP TABLE``` see `log`\nCaused by: <https://evil.example|innocent> & more"

	stopped := withStatus(freshRecord(), xplenty.StatusStopped)
	stopped.StoppedBy = "U456DEF"
	stoppedInXplenty := withStatus(freshRecord(), xplenty.StatusStopped)

	unknown := withStatus(freshRecord(), "suspended")

	rerun := freshRecord()
	rerun.JobID = 1002
	rerun.RerunOf = 1001
	rerun.HTMLURL = "https://app.xplenty.com/acme/jobs/1002"

	withOutputs := completed
	withOutputs.Outputs = []xplenty.Output{
		{ID: 1, Name: "orders to Redshift", RecordsCount: 10415234},
		{ID: 2, Name: "", ComponentName: "customers_sink", RecordsCount: 1},
		{ID: 3, Name: "errors <!channel>", RecordsCount: 0},
	}

	rerunStarting := startingRequest()
	rerunStarting.RerunOf = 1001

	return append([]goldenCase{
		{"card_idle", Card(freshRecord())},
		{"card_running", Card(busyRecord())},
		{"card_queued", Card(queued)},
		{"card_stopping", Card(stopping)},
		{"card_completed", Card(completed)},
		{"card_failed", Card(failed)},
		{"card_stopped", Card(stopped)},
		{"card_unknown_status", Card(unknown)},
		{"card_rerun", Card(rerun)},
		{"starting", StartingCard(startingRequest())},
		{"starting_rerun", StartingCard(rerunStarting)},
		{"refused", RefusedCard(startingRequest(), "Package 434 does not exist on account acme <!here>")},
		{"unknown_outcome", UnknownOutcomeCard(startingRequest(), "https://app.xplenty.com/acme/jobs")},
		{"reply_completed", Reply(withOutputs)},
		{"reply_failed", Reply(failed)},
		{"reply_stopped", Reply(stopped)},
		{"reply_stopped_in_xplenty", Reply(stoppedInXplenty)},
		{"rerun_note", RerunNote(failed, 1002, "U456DEF")},
	}, namedGoldenCases()...)
}

// marshalMessage is the golden form of a message: the payload Slack gets,
// with <, > and & left readable.
func marshalMessage(t *testing.T, m Message) []byte {
	t.Helper()
	b, err := json.MarshalIndent(struct {
		Text   string        `json:"text"`
		Blocks []slack.Block `json:"blocks"`
	}{m.Text, m.Blocks}, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return append(unescapeHTML(b), '\n')
}

// unescapeHTML undoes encoding/json's \u003c, \u003e and \u0026, which
// slack-go's own MarshalJSON methods add and which make a golden file
// unreadable. Outside an escape a backslash does not occur in JSON, so
// walking escapes pairwise is exact.
func unescapeHTML(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if rest := b[i+1:]; len(rest) >= 5 && rest[0] == 'u' {
			switch string(rest[:5]) {
			case "u003c":
				out, i = append(out, '<'), i+5
				continue
			case "u003e":
				out, i = append(out, '>'), i+5
				continue
			case "u0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out, i = append(out, b[i], b[i+1]), i+1
	}
	return out
}

func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	names := map[string]bool{}
	for _, c := range goldenCases() {
		names[c.name+".json"] = true
		t.Run(c.name, func(t *testing.T) {
			got := marshalMessage(t, c.msg)
			path := filepath.Join(dir, c.name+".json")
			if *updateGolden {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./notifier/render -run Golden -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendered message; if the change is intended, run go test ./notifier/render -run Golden -update\n--- got\n%s--- want\n%s", path, got, want)
			}

			// The golden file is a message slack-go can read back, block for block.
			var decoded struct {
				Text   string       `json:"text"`
				Blocks slack.Blocks `json:"blocks"`
			}
			if err := json.Unmarshal(want, &decoded); err != nil {
				t.Fatalf("%s is not a Slack message: %v", path, err)
			}
			if decoded.Text != c.msg.Text || len(decoded.Blocks.BlockSet) != len(c.msg.Blocks) {
				t.Errorf("%s reads back as %d blocks, text %q; want %d blocks, text %q",
					path, len(decoded.Blocks.BlockSet), decoded.Text, len(c.msg.Blocks), c.msg.Text)
			}
			checkBlockKit(t, Message{Text: decoded.Text, Blocks: decoded.Blocks.BlockSet})
		})
	}
	if *updateGolden {
		return
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !names[filepath.Base(f)] {
			t.Errorf("%s has no test case; delete it or add one", f)
		}
	}
}

// checkBlockKit checks a message against Slack's Block Kit rules and limits.
func checkBlockKit(t *testing.T, m Message) {
	t.Helper()
	if m.Text == "" || textLen(m.Text) > maxFallback {
		t.Errorf("fallback has %d UTF-16 units, want 1..%d: %q", textLen(m.Text), maxFallback, m.Text)
	}
	if len(m.Blocks) == 0 || len(m.Blocks) > maxBlocks {
		t.Errorf("%d blocks, want 1..%d", len(m.Blocks), maxBlocks)
	}
	checkText := func(where string, o *slack.TextBlockObject, typ string, max int) {
		t.Helper()
		if o == nil {
			t.Errorf("%s: no text object", where)
			return
		}
		if typ != "" && o.Type != typ {
			t.Errorf("%s: type %q, want %q", where, o.Type, typ)
		}
		if o.Type == slack.MarkdownType && (!o.Verbatim || o.Emoji != nil) {
			t.Errorf("%s: mrkdwn must be verbatim and carry no emoji flag: %+v", where, o)
		}
		if n := textLen(o.Text); n == 0 || n > max {
			t.Errorf("%s: %d UTF-16 units, want 1..%d: %q", where, n, max, o.Text)
		}
	}
	ids := map[string]bool{}
	for i, b := range m.Blocks {
		where := fmt.Sprintf("block %d (%s)", i, b.ID())
		if b.ID() == "" || ids[b.ID()] {
			t.Errorf("%s: block id empty or repeated", where)
		}
		ids[b.ID()] = true
		switch b := b.(type) {
		case *slack.SectionBlock:
			checkText(where+" text", b.Text, slack.MarkdownType, maxSectionText)
			if len(b.Fields) > maxFields {
				t.Errorf("%s: %d fields, want at most %d", where, len(b.Fields), maxFields)
			}
			for j, f := range b.Fields {
				checkText(fmt.Sprintf("%s field %d", where, j), f, slack.MarkdownType, maxFieldText)
			}
		case *slack.ContextBlock:
			if n := len(b.ContextElements.Elements); n == 0 || n > 10 {
				t.Errorf("%s: %d elements, want 1..10", where, n)
			}
			for j, e := range b.ContextElements.Elements {
				o, ok := e.(*slack.TextBlockObject)
				if !ok {
					t.Errorf("%s element %d: %T, want a text object", where, j, e)
					continue
				}
				checkText(fmt.Sprintf("%s element %d", where, j), o, slack.MarkdownType, maxSectionText)
			}
		case *slack.ActionBlock:
			if b.Elements == nil || len(b.Elements.ElementSet) == 0 || len(b.Elements.ElementSet) > 25 {
				t.Errorf("%s: want 1..25 elements", where)
				continue
			}
			for j, e := range b.Elements.ElementSet {
				btn, ok := e.(*slack.ButtonBlockElement)
				if !ok {
					t.Errorf("%s element %d: %T, want a button", where, j, e)
					continue
				}
				bw := fmt.Sprintf("%s button %s", where, btn.ActionID)
				if btn.Type != slack.METButton || btn.ActionID == "" || btn.Value == "" || len(btn.Value) > 2000 {
					t.Errorf("%s: bad button %+v", bw, btn)
				}
				checkText(bw+" text", btn.Text, slack.PlainTextType, maxButtonText)
				if c := btn.Confirm; c != nil {
					checkText(bw+" confirm title", c.Title, slack.PlainTextType, 100)
					checkText(bw+" confirm text", c.Text, slack.PlainTextType, maxConfirmText)
					checkText(bw+" confirm confirm", c.Confirm, slack.PlainTextType, 30)
					checkText(bw+" confirm deny", c.Deny, slack.PlainTextType, 30)
				}
			}
		default:
			t.Errorf("%s: unexpected block type %T", where, b)
		}
	}
}

// hostile is text an attacker controls, aimed at every trick Slack's
// formatting offers.
const hostile = "<!channel> <!here|here> <@U666EVIL> <#C666EVIL> <!subteam^S666> <https://evil.example|innocent> & ```x``` `y`"

// everyMessage renders every message type, in every status, from one record
// and one run request.
func everyMessage(r job.Record, s Starting, reason, pageURL, by string) map[string]Message {
	msgs := map[string]Message{
		"starting":        StartingCard(s),
		"refused":         RefusedCard(s, reason),
		"unknown outcome": UnknownOutcomeCard(s, pageURL),
	}
	statuses := []xplenty.Status{
		"", xplenty.StatusIdle, xplenty.StatusPending, xplenty.StatusQueued, xplenty.StatusRunning,
		xplenty.StatusPendingStoppage, xplenty.StatusStopping, xplenty.StatusCompleted,
		xplenty.StatusFailed, xplenty.StatusStopped, "mystery", xplenty.Status(hostile),
	}
	for _, st := range statuses {
		rr := withStatus(r, st)
		msgs["card "+string(st)] = Card(rr)
		msgs["reply "+string(st)] = Reply(rr)
		msgs["rerun note "+string(st)] = RerunNote(rr, r.JobID+1, by)
		rr.StopRequestedBy, rr.StoppedBy = "", ""
		msgs["card, nobody stopped it, "+string(st)] = Card(rr)
		msgs["reply, nobody stopped it, "+string(st)] = Reply(rr)
	}
	return msgs
}

// strings collects every string in a message's JSON, decoded, plus its
// fallback: what Slack would read.
func messageStrings(t *testing.T, m Message) []string {
	t.Helper()
	b, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		t.Fatal(err)
	}
	out := []string{m.Text}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(tree)
	return out
}

// ourMarkup is every <…> the renderer itself may write: a user mention, or a
// link with one of our own labels.
var ourMarkup = regexp.MustCompile(`<@[UW][A-Z0-9]+>|<https?://[^<>|\s]+\|(?:Open in Xplenty|the Xplenty jobs page)>`)

func TestRenderHostileTextStaysText(t *testing.T) {
	r := busyRecord()
	r.Requester = "<!channel>"
	r.StopRequestedBy = "<!here>"
	r.StoppedBy = "<@U666EVIL>"
	r.Preset = hostile
	r.Variables = map[string]string{"DATE": hostile, hostile: "x"}
	r.DynamicVariables = map[string]string{"RUN_AT": hostile}
	r.Errors = hostile + "\n" + hostile
	r.HTMLURL = "https://app.xplenty.com/acme/jobs/1001?q=<!channel>|<https://evil.example|innocent>"
	r.Outputs = []xplenty.Output{{ID: 1, Name: hostile, RecordsCount: 5}, {ID: 2, ComponentName: hostile}}
	s := Starting{
		Requester: "<!everyone>", Run: commands.Run{ClusterID: 52, PackageID: 434, Preset: hostile, Variables: map[string]string{"DATE": hostile}, DynamicVariables: map[string]string{hostile: hostile}},
	}
	pageURLs := []string{"https://app.xplenty.com/acme/jobs?x=<!channel>|y", "javascript:alert(1)//<!channel>"}
	for _, pageURL := range pageURLs {
		for name, m := range everyMessage(r, s, hostile, pageURL, "<!channel>") {
			for _, str := range messageStrings(t, m) {
				rest := ourMarkup.ReplaceAllString(str, "")
				if strings.ContainsAny(rest, "<>") {
					t.Errorf("%s: raw < or > outside our own mentions and links: %q", name, str)
				}
				// The Edit & re-run button's label is our own plain text,
				// where & shows as it is.
				rest = strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "", "Edit & re-run", "").Replace(rest)
				if strings.Contains(rest, "&") {
					t.Errorf("%s: unescaped &: %q", name, str)
				}
				if strings.Contains(str, "<@U666EVIL>") || strings.Contains(str, "javascript:") {
					t.Errorf("%s: hostile markup got through: %q", name, str)
				}
				if strings.Count(str, "```") > 2 {
					t.Errorf("%s: hostile text closed a code block: %q", name, str)
				}
			}
			if name == "reply failed" && !strings.Contains(m.Text, "&lt;!channel&gt;") {
				t.Errorf("%s: want the escaped error in the fallback: %q", name, m.Text)
			}
			checkBlockKit(t, m)
			for _, b := range m.Blocks {
				if a, ok := b.(*slack.ActionBlock); ok {
					for _, e := range a.Elements.ElementSet {
						btn := e.(*slack.ButtonBlockElement)
						if btn.Value != "1001" {
							t.Errorf("%s: button value %q, want 1001", name, btn.Value)
						}
					}
				}
			}
		}
	}
}

func TestSecretValuesNeverRendered(t *testing.T) {
	r := busyRecord() // DB_PASSWORD=hunter2, API_LOGIN (listed) = s3cr3t-login
	r.DynamicVariables["SECRET_EXPR"] = "vault('etl/prod')"
	r.SecretNames = append(r.SecretNames, "SECRET_EXPR")
	r.Errors = "login as etl with password hunter2 refused; token s3cr3t-login expired"
	r.Outputs = []xplenty.Output{{ID: 1, Name: "dump hunter2", RecordsCount: 3}}
	r.StoppedBy = "U456DEF"
	s := startingRequest()
	s.Variables["api_login"] = "s3cr3t-login"
	s.SecretNames = []string{"API_LOGIN", "DB_PASSWORD", "SECRET_EXPR"}
	s.DynamicVariables["SECRET_EXPR"] = "vault('etl/prod')"
	secrets := []string{"hunter2", "s3cr3t-login", "vault('etl/prod')"}

	for name, m := range everyMessage(r, s, "password hunter2 is wrong for s3cr3t-login", "https://app.xplenty.com/acme/jobs", "U456DEF") {
		raw, err := json.Marshal(struct {
			Text   string
			Blocks []slack.Block
		}{m.Text, m.Blocks})
		if err != nil {
			t.Fatal(err)
		}
		all := string(unescapeHTML(raw)) + strings.Join(messageStrings(t, m), "\n")
		for _, secret := range secrets {
			if strings.Contains(all, secret) || strings.Contains(all, Escape(secret)) {
				t.Errorf("%s: secret %q is in the message:\n%s", name, secret, raw)
			}
		}
	}

	card := Card(r)
	all := strings.Join(messageStrings(t, card), "\n")
	for _, want := range []string{"`DB_PASSWORD` = " + Mask, "`API_LOGIN` = " + Mask, "`SECRET_EXPR` = " + Mask, "postgres://etl:" + Mask + "@db.internal", "`REGION` = `eu-west-1`"} {
		if !strings.Contains(all, want) {
			t.Errorf("card lacks %q:\n%s", want, all)
		}
	}
}

// The renderer masks exactly the names the bot's one secret rule listed
// (job.Record.SecretNames), with no rule of its own: a name that merely looks
// secret is shown when the rule says it is not, and a listed name is
// masked whatever it looks like.
func TestRendererMasksExactlyTheListedNames(t *testing.T) {
	r := job.Record{JobID: 1001, Run: commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"API_KEY": "visible-k1", "DB_URL": "postgres://u:pw@db/x"}, SecretNames: []string{"db_url"}}, Status: xplenty.StatusFailed,

		Errors: "cannot connect to postgres://u:pw@db/x with visible-k1",
	}
	for name, m := range map[string]Message{"card": Card(r), "reply": Reply(r)} {
		all := strings.Join(messageStrings(t, m), "\n")
		if strings.Contains(all, "postgres://u:pw@db/x") || !strings.Contains(all, "visible-k1") {
			t.Errorf("%s: want DB_URL masked and API_KEY shown:\n%s", name, all)
		}
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"<@U123>", "&lt;@U123&gt;"},
		{"<https://evil|innocent>", "&lt;https://evil|innocent&gt;"},
		{"a & b", "a &amp; b"},
		{"&lt;", "&amp;lt;"}, // already-escaped text is escaped again, shown as typed
		{"*bold* `code` _it_", "*bold* `code` _it_"},
		{"ünïcode ✅", "ünïcode ✅"},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		want string
	}{
		{0, "░░░░░░░░░░ 0%"},
		{0.05, "░░░░░░░░░░ 5%"},
		{0.29, "▓▓░░░░░░░░ 29%"},
		{0.4, "▓▓▓▓░░░░░░ 40%"},
		{0.5, "▓▓▓▓▓░░░░░ 50%"},
		{0.999, "▓▓▓▓▓▓▓▓▓░ 99%"},
		// A job that has not ended never shows 100%, even when Xplenty
		// reports 1.0 (the bar is only drawn for running jobs).
		{1, "▓▓▓▓▓▓▓▓▓░ 99%"},
		{1.7, "▓▓▓▓▓▓▓▓▓░ 99%"},
		{-0.2, "░░░░░░░░░░ 0%"},
		{nan(), "░░░░░░░░░░ 0%"},
	} {
		if got := ProgressBar(tc.p); got != tc.want {
			t.Errorf("ProgressBar(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestProgressRunningCardNever100 checks the card and its fallback of a job
// that Xplenty says is running at 100%.
func TestProgressRunningCardNever100(t *testing.T) {
	r := withStatus(freshRecord(), xplenty.StatusRunning)
	r.Progress = 1
	m := Card(r)
	if want := "Job 1001 (package 434 on cluster 52): running 99%"; m.Text != want {
		t.Errorf("fallback %q, want %q", m.Text, want)
	}
	all := strings.Join(messageStrings(t, m), "\n")
	if strings.Contains(all, "100%") || !strings.Contains(all, "`▓▓▓▓▓▓▓▓▓░ 99%`") {
		t.Errorf("running card at progress 1.0 does not show 99%%:\n%s", all)
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestRenderDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{400 * time.Millisecond, "0s"},
		{42 * time.Second, "42s"},
		{7*time.Minute + 2*time.Second, "7m 2s"},
		{7*time.Minute + 1500*time.Millisecond, "7m 2s"},
		{time.Hour + 5*time.Second, "1h 0m 5s"},
		{26*time.Hour + 3*time.Minute, "26h 3m 0s"},
		{-time.Second, "0s"},
	} {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestRenderCount(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999, "999"},
		{1000, "1,000"},
		{10415234, "10,415,234"},
		{100000, "100,000"},
		{-1234567, "-1,234,567"},
		{-9223372036854775808, "-9,223,372,036,854,775,808"},
	} {
		if got := formatCount(tc.n); got != tc.want {
			t.Errorf("formatCount(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := formatRecords(1); got != "1 record" {
		t.Errorf("formatRecords(1) = %q", got)
	}
	if got := formatRecords(10415234); got != "10,415,234 records" {
		t.Errorf("formatRecords(10415234) = %q", got)
	}
}

func TestRenderLinkTarget(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"https://app.xplenty.com/acme/jobs/1001", "https://app.xplenty.com/acme/jobs/1001", true},
		{"HTTP://app.xplenty.com/x", "http://app.xplenty.com/x", true},
		{"https://app.xplenty.com/x?a=1&b=<2>|c d", "https://app.xplenty.com/x?a=1&amp;b=%3C2%3E%7Cc%20d", true},
		{"https://app.xplenty.com/x?a=\u202e>", "https://app.xplenty.com/x?a=%E2%80%AE%3E", true},
		{"https://user:pw@app.xplenty.com/x", "https://app.xplenty.com/x", true},
		{"javascript:alert(1)", "", false},
		{"ftp://app.xplenty.com/x", "", false},
		{"/acme/jobs/1001", "", false},
		{"https://", "", false},
		{"", "", false},
		{"https://app.xplenty.com/" + strings.Repeat("a", maxLinkURL), "", false},
	} {
		got, ok := linkTarget(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("linkTarget(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestRenderMention(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"U123ABC", "<@U123ABC>"},
		{"W012XYZ", "<@W012XYZ>"},
		{"u123abc", "u123abc"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"U123>|<!here", "U123&gt;|&lt;!here"},
		{"B0BOT", "B0BOT"},
		{"", "unknown"},
	} {
		if got := mention(tc.in); got != tc.want {
			t.Errorf("mention(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRenderClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"a<b", 10, "a&lt;b"},
		{"ab<cdef", 6, "ab…"}, // &lt; would not fit whole: cut before it
		{"ünïcödé ✅✅✅", 5, "ünïc…"},
		{"bad \xff byte", 20, "bad \uFFFD byte"},
	} {
		if got := clip(tc.in, tc.max); got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// buttons returns the card's buttons by action id.
func buttons(t *testing.T, m Message) map[string]*slack.ButtonBlockElement {
	t.Helper()
	out := map[string]*slack.ButtonBlockElement{}
	for _, b := range m.Blocks {
		if a, ok := b.(*slack.ActionBlock); ok {
			if a.BlockID != "runjob_actions" {
				t.Errorf("actions block id %q, want runjob_actions", a.BlockID)
			}
			for _, e := range a.Elements.ElementSet {
				btn := e.(*slack.ButtonBlockElement)
				out[btn.ActionID] = btn
			}
		}
	}
	return out
}

func TestRenderCardButtons(t *testing.T) {
	stopRequested := withStatus(freshRecord(), xplenty.StatusRunning)
	stopRequested.StopRequestedBy = "U456DEF"
	for _, tc := range []struct {
		name string
		r    job.Record
		want []string
	}{
		{"idle", freshRecord(), []string{ActionRerun, ActionStop}},
		{"queued", withStatus(freshRecord(), xplenty.StatusQueued), []string{ActionRerun, ActionStop}},
		{"running", withStatus(freshRecord(), xplenty.StatusRunning), []string{ActionRerun, ActionStop}},
		{"unknown status", withStatus(freshRecord(), "suspended"), []string{ActionRerun, ActionStop}},
		{"stop requested", stopRequested, []string{ActionRerun}},
		{"pending_stoppage", withStatus(freshRecord(), xplenty.StatusPendingStoppage), []string{ActionRerun}},
		{"stopping", withStatus(freshRecord(), xplenty.StatusStopping), []string{ActionRerun}},
		{"completed", withStatus(freshRecord(), xplenty.StatusCompleted), []string{ActionEdit, ActionRerun}},
		{"failed", withStatus(freshRecord(), xplenty.StatusFailed), []string{ActionEdit, ActionLog, ActionRerun}},
		{"stopped", withStatus(freshRecord(), xplenty.StatusStopped), []string{ActionEdit, ActionRerun}},
	} {
		got := buttons(t, Card(tc.r))
		ids := slices.Sorted(func(yield func(string) bool) {
			for id := range got {
				if !yield(id) {
					return
				}
			}
		})
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s: buttons %v, want %v", tc.name, ids, tc.want)
		}
		for id, btn := range got {
			if btn.Value != "1001" {
				t.Errorf("%s: %s value %q, want 1001", tc.name, id, btn.Value)
			}
		}
		if stop := got[ActionStop]; stop != nil {
			c := stop.Confirm
			if stop.Style != slack.StyleDanger || c == nil || c.Title == nil || c.Text == nil || c.Confirm == nil || c.Deny == nil {
				t.Fatalf("%s: stop button lacks danger style or a full confirm dialog: %+v", tc.name, stop)
			}
			if c.Text.Text != "Stop job 1001 (package 434)?" || c.Confirm.Text != "Stop it" || c.Deny.Text != "Keep running" {
				t.Errorf("%s: confirm dialog %q / %q / %q", tc.name, c.Text.Text, c.Confirm.Text, c.Deny.Text)
			}
		}
	}
}

func TestRenderFallbackNamesJobAndStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Message
		want []string
	}{
		{"idle card", Card(freshRecord()), []string{"1001", "idle"}},
		{"running card", Card(busyRecord()), []string{"Job 1001 (package 434 on cluster 52): running 40%"}},
		{"queued card", Card(withStatus(freshRecord(), xplenty.StatusQueued)), []string{"1001", "queued"}},
		{"pending_stoppage card", Card(withStatus(freshRecord(), xplenty.StatusPendingStoppage)), []string{"1001", "stopping"}},
		{"completed card", Card(withStatus(freshRecord(), xplenty.StatusCompleted)), []string{"1001", "completed"}},
		{"failed card", Card(withStatus(freshRecord(), xplenty.StatusFailed)), []string{"1001", "failed"}},
		{"stopped card", Card(withStatus(freshRecord(), xplenty.StatusStopped)), []string{"1001", "stopped"}},
		{"unknown card", Card(withStatus(freshRecord(), "sus<p>ended")), []string{"1001", "sus&lt;p&gt;ended"}},
		{"completed reply", Reply(withStatus(freshRecord(), xplenty.StatusCompleted)), []string{"<@U123ABC>", "1001", "completed"}},
		{"failed reply", Reply(withStatus(freshRecord(), xplenty.StatusFailed)), []string{"<@U123ABC>", "1001", "failed"}},
		{"stopped reply", Reply(withStatus(freshRecord(), xplenty.StatusStopped)), []string{"<@U123ABC>", "1001", "stopped"}},
		{"rerun note", RerunNote(withStatus(freshRecord(), xplenty.StatusFailed), 1002, "U456DEF"), []string{"1001", "1002", "failed"}},
		{"starting", StartingCard(startingRequest()), []string{"starting"}},
		{"refused", RefusedCard(startingRequest(), "no such package"), []string{"refused", "no such package"}},
		{"unknown outcome", UnknownOutcomeCard(startingRequest(), ""), []string{"unknown", "may have started"}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.m.Text, w) {
				t.Errorf("%s: fallback %q lacks %q", tc.name, tc.m.Text, w)
			}
		}
	}
}

func TestRenderLongAndManyThingsAreCut(t *testing.T) {
	r := busyRecord()
	r.Variables = map[string]string{}
	for i := range 25 {
		r.Variables[fmt.Sprintf("VAR_%02d", i)] = strings.Repeat("&", 2000)
	}
	r.Variables[strings.Repeat("N", 500)] = "x"
	r.DynamicVariables = map[string]string{"D": strings.Repeat("<", 5000)}
	r.Preset = strings.Repeat("p&", 1000)
	r.Requester = strings.Repeat("x", 500)
	r.Errors = strings.Repeat("failure & <more>\n", 1000)
	for i := range 120 {
		r.Outputs = append(r.Outputs, xplenty.Output{ID: int64(i), Name: strings.Repeat("o", 300), RecordsCount: int64(i) * 1000})
	}
	s := Starting{Requester: r.Requester, Run: commands.Run{ClusterID: 52, PackageID: 434, Preset: r.Preset, Variables: r.Variables, DynamicVariables: r.DynamicVariables}}
	for name, m := range everyMessage(r, s, r.Errors, "https://app.xplenty.com/acme/jobs", strings.Repeat("y", 500)) {
		t.Run(name, func(t *testing.T) { checkBlockKit(t, m) })
	}

	card := strings.Join(messageStrings(t, Card(r)), "\n")
	for _, want := range []string{"_and 16 more_", "&amp;…`", "NNN…`"} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q", want)
		}
	}
	reply := strings.Join(messageStrings(t, Reply(withStatus(r, xplenty.StatusCompleted))), "\n")
	if !strings.Contains(reply, "_and 110 more_") || !strings.Contains(reply, "9,000 records") {
		t.Errorf("completed reply does not cap its outputs:\n%s", reply)
	}
	failed := strings.Join(messageStrings(t, Reply(withStatus(r, xplenty.StatusFailed))), "\n")
	if !strings.Contains(failed, "…\n```") {
		t.Errorf("failed reply does not cut a long error")
	}
}

// visible is what a reader could make of rendered text: entities decoded,
// look-alike backticks back, and every space, control character and bidi
// override dropped, so that a secret split or disguised by them shows.
func visible(s string) string {
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "ˋ", "`").Replace(s)
	return strings.Map(func(r rune) rune {
		if unsafeRune(r) || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// TestSecretRefusedReasonIsRaw checks RefusedCard with Xplenty's raw
// reason echoing secret values that hold &, <, a backtick, a line break or
// a bidi override: no secret, nor any line of one, shows in any form, and
// the rest of the reason is escaped exactly once.
func TestSecretRefusedReasonIsRaw(t *testing.T) {
	for _, tc := range []struct {
		name, secret, reason string
	}{
		{"entities", "p&ss<w0rd", "a & b: password p&ss<w0rd is wrong"},
		{"backtick", "p&ss<`w0rd", "a & b: password p&ss<`w0rd is wrong"},
		{"line break", "p&ss<w0rd\nz9q&x>", "a & b: password p&ss<w0rd\nz9q&x> is wrong"},
		{"split by a bidi override", "p&ss<w0rd", "a & b: password p&ss\u202e<w0rd is wrong"},
		{"split by ESC", "p&ss<w0rd", "a & b: password p&ss\x1b<w0rd is wrong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startingRequest()
			s.Variables["DB_PASSWORD"] = tc.secret
			m := RefusedCard(s, tc.reason)
			raw, err := json.Marshal(struct {
				Text   string
				Blocks []slack.Block
			}{m.Text, m.Blocks})
			if err != nil {
				t.Fatal(err)
			}
			strs := messageStrings(t, m)
			all := string(unescapeHTML(raw)) + "\n" + strings.Join(strs, "\n")
			pieces := append([]string{tc.secret}, strings.Split(tc.secret, "\n")...)
			for _, p := range pieces {
				if strings.Contains(all, p) || strings.Contains(all, Escape(p)) || strings.Contains(visible(all), visible(p)) {
					t.Errorf("secret (part) %q is in the message:\n%s", p, all)
				}
			}
			detail := ""
			for _, str := range strs {
				if strings.HasPrefix(str, "```") {
					detail = str
				}
			}
			for where, text := range map[string]string{"fallback": m.Text, "detail": detail} {
				if !strings.Contains(text, "a &amp; b: password "+Mask) {
					t.Errorf("%s %q lacks the once-escaped, scrubbed reason", where, text)
				}
				if strings.Contains(text, "&amp;amp;") || strings.Contains(text, "&amp;lt;") {
					t.Errorf("%s %q is escaped twice", where, text)
				}
			}
		})
	}
}

// TestEscapeStripsControlAndBidi checks that no control character (but the
// line breaks and tabs of an error text) and no bidi override reaches a
// message, and that the error text keeps its lines and tabs.
func TestEscapeStripsControlAndBidi(t *testing.T) {
	nasty := "\x1b[31mred\x1b[0m \u202eevil\u202c \u2066iso\u2069 nul\x00 del\x7f c1\u0085\u009b end"
	r := busyRecord()
	r.Status = xplenty.StatusFailed
	r.Errors = "line 1\tcol\r\nline 2\rline 3\n" + nasty
	r.Preset = nasty
	r.Variables["NOTE"] = nasty
	r.Outputs = []xplenty.Output{{ID: 1, Name: nasty, RecordsCount: 1}}
	s := startingRequest()
	s.Variables["NOTE"] = nasty
	for name, m := range everyMessage(r, s, r.Errors, "https://app.xplenty.com/acme/jobs", "U456DEF") {
		for _, str := range messageStrings(t, m) {
			for _, c := range str {
				if unsafeRune(c) && c != '\n' && c != '\t' {
					t.Errorf("%s: %U in %q", name, c, str)
				}
			}
		}
	}
	m := Reply(r)
	want := "```\nline 1\tcol\nline 2\nline 3\n[31mred[0m evil iso nul del c1 end\n```"
	found := false
	for _, str := range messageStrings(t, m) {
		found = found || str == want
	}
	if !found {
		t.Errorf("failed reply lacks the error block %q:\n%s", want, strings.Join(messageStrings(t, m), "\n"))
	}
	if want := ": line 1 col"; !strings.Contains(m.Text, want) {
		t.Errorf("fallback %q lacks %q", m.Text, want)
	}
	card := strings.Join(messageStrings(t, Card(r)), "\n")
	// On one line, control characters are spaces and bidi overrides go.
	if want := "` [31mred [0m evil iso nul  del  c1   end`"; !strings.Contains(card, want) {
		t.Errorf("card lacks the one-line value %q:\n%s", want, card)
	}
}

func TestConfirmPrompt(t *testing.T) {
	s := startingRequest()
	for _, tc := range []struct {
		name, reason     string
		wantLine, wantFB string
	}{
		{"reason", "cluster 52 is protected & busy <!here>",
			"⚠️ *Confirm the run of package 434 on cluster 52*\ncluster 52 is protected &amp; busy &lt;!here&gt;. Only you can confirm it, within 5m 0s.",
			"Package 434 on cluster 52: confirm to start (cluster 52 is protected &amp; busy &lt;!here&gt;)"},
		{"no reason", "",
			"⚠️ *Confirm the run of package 434 on cluster 52*\nOnly you can confirm it, within 5m 0s.",
			"Package 434 on cluster 52: confirm to start"},
		{"blank reason", " \n\x00 ",
			"⚠️ *Confirm the run of package 434 on cluster 52*\nOnly you can confirm it, within 5m 0s.",
			"Package 434 on cluster 52: confirm to start"},
		{"secret in the reason", "hunter2 is in use",
			"⚠️ *Confirm the run of package 434 on cluster 52*\n" + Mask + " is in use. Only you can confirm it, within 5m 0s.",
			"Package 434 on cluster 52: confirm to start (" + Mask + " is in use)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ConfirmPrompt(s, tc.reason, "tok123", 5*time.Minute)
			if m.Text != tc.wantFB {
				t.Errorf("fallback %q, want %q", m.Text, tc.wantFB)
			}
			sec, ok := m.Blocks[0].(*slack.SectionBlock)
			if !ok || sec.Text.Text != tc.wantLine {
				t.Errorf("first block %+v, want the line %q", m.Blocks[0], tc.wantLine)
			}
			checkBlockKit(t, m)
		})
	}
}
