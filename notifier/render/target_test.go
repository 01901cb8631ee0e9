package render

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/xplenty"
)

const packageURL = "https://app.xplenty.com/acme/packages/434"

// named gives a run the names and the package page the catalog knows.
func named(r commands.Run, pkg, cluster string) commands.Run {
	r.PackageName, r.ClusterName, r.PackageURL = pkg, cluster, packageURL
	return r
}

// hostileName is a name as Xplenty could hold it, aimed at the link it is
// shown in: a mention, markup, a | and a > that would end the label.
const hostileName = "<!channel> *orders* & `x` a|b> <https://evil.example|innocent>"

// longName is as long as Xplenty allows (255) and more.
var longName = strings.Repeat("orders_", 42) + "end" // 297 characters

// namedGoldenCases are the golden messages of runs whose names are known:
// both (the package linked), one of them, and hostile ones.
func namedGoldenCases() []goldenCase {
	card := busyRecord()
	card.Run = named(card.Run, "orders_daily", "prod-etl")

	reply := withStatus(freshRecord(), xplenty.StatusCompleted)
	reply.Run = named(reply.Run, "orders_daily", "prod-etl")
	reply.Runtime = 42 * time.Second

	clusterOnly := startingRequest()
	clusterOnly.ClusterName = "prod-etl"

	packageOnly := withStatus(freshRecord(), xplenty.StatusFailed)
	packageOnly.Run = named(packageOnly.Run, "orders_daily", "")
	packageOnly.Errors = "Component 'dest' failed"

	hostile := withStatus(freshRecord(), xplenty.StatusRunning)
	hostile.Progress = 0.5
	hostile.Run = named(hostile.Run, hostileName, longName)

	return []goldenCase{
		{"card_named", Card(card)},
		{"reply_named", Reply(reply)},
		{"starting_cluster_named", StartingCard(clusterOnly)},
		{"reply_failed_package_named", Reply(packageOnly)},
		{"card_hostile_names", Card(hostile)},
		{"reply_hostile_names", Reply(withStatus(hostile, xplenty.StatusStopped))},
	}
}

func TestTarget(t *testing.T) {
	base := commands.Run{ClusterID: 52, PackageID: 434}
	link := "<" + packageURL + "|"
	long := strings.Repeat("orders_", 11) + "or…" // 77 + 2 + 1 = 80 units
	for _, tc := range []struct {
		name       string
		run        commands.Run
		mrkdwn     string
		text       string
		wantInText []string
	}{
		{"no names: as before names", base,
			"package 434 on cluster 52", "package 434 on cluster 52", nil},
		{"both names", named(base, "orders_daily", "prod-etl"),
			link + "orders_daily> (434) on prod-etl (52)", "orders_daily (434) on prod-etl (52)", nil},
		{"package name only", named(base, "orders_daily", ""),
			link + "orders_daily> (434) on cluster 52", "orders_daily (434) on cluster 52", nil},
		{"cluster name only", commands.Run{ClusterID: 52, PackageID: 434, ClusterName: "prod-etl"},
			"package 434 on prod-etl (52)", "package 434 on prod-etl (52)", nil},
		{"a page but no name: the id is the link", named(base, "", ""),
			link + "package 434> on cluster 52", "package 434 on cluster 52", nil},
		{"a page that is not http(s) is not linked", commands.Run{ClusterID: 52, PackageID: 434, PackageName: "orders_daily", PackageURL: "javascript:alert(1)"},
			"orders_daily (434) on cluster 52", "orders_daily (434) on cluster 52", nil},
		{"a name typed, not resolved yet", commands.Run{PackageName: "orders_daily", ClusterName: "prod-etl"},
			"orders_daily on prod-etl", "orders_daily on prod-etl", nil},
		{"blank names are unknown", named(base, " \t\u202e", "\n"),
			link + "package 434> on cluster 52", "package 434 on cluster 52", nil},
		{"mention and markup stay text", named(base, "<!channel>", "<@U666EVIL> & co"),
			link + "&lt;!channel&gt;> (434) on &lt;@U666EVIL&gt; &amp; co (52)", "&lt;!channel&gt; (434) on &lt;@U666EVIL&gt; &amp; co (52)", nil},
		{"| and > cannot end the label", named(base, "a|b>", "c|d>"),
			link + "a∣b&gt;> (434) on c|d&gt; (52)", "a|b&gt; (434) on c|d&gt; (52)", nil},
		{"one line, no backticks", named(base, "orders\ndaily `x`", "prod\u202eetl\x1b"),
			link + "orders daily ˋxˋ> (434) on prodetl (52)", "orders daily ˋxˋ (434) on prodetl (52)", nil},
		{"long names are cut, the ids stay", named(base, longName, longName),
			link + long + "> (434) on " + long + " (52)", long + " (434) on " + long + " (52)", nil},
		{"secret values are masked", commands.Run{ClusterID: 52, PackageID: 434, PackageName: "dump hunter2", Variables: map[string]string{"DB_PASSWORD": "hunter2"}, SecretNames: []string{"DB_PASSWORD"}},
			"dump " + Mask + " (434) on cluster 52", "dump " + Mask + " (434) on cluster 52", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Target(tc.run); got != tc.mrkdwn {
				t.Errorf("Target =\n %q, want\n %q", got, tc.mrkdwn)
			}
			if got := TargetText(tc.run); got != tc.text {
				t.Errorf("TargetText =\n %q, want\n %q", got, tc.text)
			}
		})
	}
	if n := textLen(long); n != maxName {
		t.Errorf("the cut name has %d units, want %d", n, maxName)
	}
}

// ourNamedMarkup is every <…> the renderer may write once names are known:
// a user mention, or a link whose label holds no <, > or |.
var ourNamedMarkup = regexp.MustCompile(`<@[UW][A-Z0-9]+>|<https?://[^<>|\s]+\|[^<>|]+>`)

// Every message about a run with hostile or overlong names keeps them as
// text, inside Slack's limits, with a fallback that still names the job,
// its status and (escaped, unlinked) the names.
func TestRenderHostileNamesStayText(t *testing.T) {
	for _, names := range [][2]string{{hostileName, longName}, {longName, hostileName}, {hostileName, ""}, {"", hostileName}} {
		r := freshRecord()
		r.Run = named(r.Run, names[0], names[1])
		s := Starting{Requester: "U123ABC", Run: named(startingRequest().Run, names[0], names[1])}
		msgs := everyMessage(r, s, "no", "https://app.xplenty.com/acme/jobs", "U456DEF")
		msgs["confirm"] = ConfirmPrompt(s, "protected", "tok", time.Minute)
		msgs["followed elsewhere"] = FollowedElsewhereCard(s, 1001, r.HTMLURL)
		for name, m := range msgs {
			checkBlockKit(t, m)
			for _, str := range messageStrings(t, m) {
				rest := ourNamedMarkup.ReplaceAllString(str, "")
				if strings.ContainsAny(rest, "<>") {
					t.Errorf("%s: raw < or > outside our own mentions and links: %q", name, str)
				}
				// The Edit & re-run button's label is our own plain text,
				// where & shows as it is.
				rest = strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "", "Edit & re-run", "").Replace(rest)
				if strings.Contains(rest, "&") {
					t.Errorf("%s: unescaped &: %q", name, str)
				}
				if strings.Contains(str, "<https://evil") {
					t.Errorf("%s: the name made a link: %q", name, str)
				}
			}
			if strings.Contains(m.Text, "<http") {
				t.Errorf("%s: the fallback holds a link: %q", name, m.Text)
			}
			if strings.HasPrefix(name, "rerun note") {
				continue // says nothing of the package
			}
			for _, n := range names {
				if n == "" {
					continue
				}
				if want := clip(n, 20); !strings.Contains(m.Text, strings.TrimSuffix(want, "…")) {
					t.Errorf("%s: the fallback lacks the name %q: %q", name, want, m.Text)
				}
			}
			if strings.HasPrefix(name, "card") || strings.HasPrefix(name, "reply") {
				if !strings.Contains(m.Text, "1001") {
					t.Errorf("%s: the fallback lacks the job id: %q", name, m.Text)
				}
			}
		}
	}
}

// Names show in every place the ids do: the title, the fields, the
// fallback, and the notes in a job's thread.
func TestRenderNamesBesideIDs(t *testing.T) {
	r := withStatus(freshRecord(), xplenty.StatusRunning)
	r.Run = named(r.Run, "orders_daily", "prod-etl")
	linked := "<" + packageURL + "|orders_daily> (434) on prod-etl (52)"

	card := Card(r)
	if want := "Job 1001 (orders_daily (434) on prod-etl (52)): running 0%"; card.Text != want {
		t.Errorf("card fallback %q, want %q", card.Text, want)
	}
	sec := card.Blocks[0].(*slack.SectionBlock)
	if got := sec.Fields[0].Text + " | " + sec.Fields[1].Text; got != "*Package*\n<"+packageURL+"|orders_daily> (434) | *Cluster*\nprod-etl (52)" {
		t.Errorf("card fields %q", got)
	}

	s := Starting{Requester: "U123ABC", Run: r.Run}
	for _, tc := range []struct {
		name     string
		m        Message
		line, fb string
	}{
		{"starting", StartingCard(s), "⏳ *Starting " + linked + "…*", "orders_daily (434) on prod-etl (52): starting…"},
		{"refused", RefusedCard(s, "no"), "🚫 *Xplenty refused to run " + linked + "*", "orders_daily (434) on prod-etl (52): refused – no"},
		{"unknown outcome", UnknownOutcomeCard(s, ""), "⚠️ *" + linked + ": outcome unknown*", "orders_daily (434) on prod-etl (52): unknown"},
		{"confirm", ConfirmPrompt(s, "", "tok", time.Minute), "⚠️ *Confirm the run of " + linked + "*", "orders_daily (434) on prod-etl (52): confirm to start"},
		{"followed elsewhere", FollowedElsewhereCard(s, 1001, ""), "↪️ *Job 1001 started", "Job 1001 (orders_daily (434) on prod-etl (52)): started"},
		{"reply", Reply(withStatus(r, xplenty.StatusCompleted)), "✅ <@U123ABC> Job 1001 (" + linked + ") completed.", "<@U123ABC> Job 1001 (orders_daily (434) on prod-etl (52)) completed"},
	} {
		sec := tc.m.Blocks[0].(*slack.SectionBlock)
		if !strings.HasPrefix(sec.Text.Text, tc.line) {
			t.Errorf("%s: line %q, want it to start with %q", tc.name, sec.Text.Text, tc.line)
		}
		if !strings.HasPrefix(tc.m.Text, tc.fb) {
			t.Errorf("%s: fallback %q, want it to start with %q", tc.name, tc.m.Text, tc.fb)
		}
	}

	for _, tc := range []struct {
		name string
		m    Message
		want string
	}{
		{"slow", SlowNote(r, time.Hour, 14*time.Minute, Ping), "runs of " + linked + " usually take 14 min"},
		{"queued", QueuedNote(r, time.Hour, Ping), "waiting for resources on prod-etl (52)."},
		{"queued, cluster unknown", QueuedNote(job.Record{JobID: 1, Run: commands.Run{ClusterID: 52, PackageID: 434}}, time.Hour, Ping), "waiting for resources on cluster 52."},
	} {
		if !strings.Contains(tc.m.Text, tc.want) {
			t.Errorf("%s: %q lacks %q", tc.name, tc.m.Text, tc.want)
		}
	}
}
