package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
)

// fakeGroups answers usergroups.users.list from members, or fails with err.
type fakeGroups struct {
	members map[string][]string
	err     error
	calls   int
}

func (f *fakeGroups) UserGroupMembers(_ context.Context, group string) ([]string, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.members[group], nil
}

// clock is a settable time for the group cache.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestGroupCacheUsesStaleMembersForABoundedTime(t *testing.T) {
	api := &fakeGroups{members: map[string][]string{"S1": {"U5"}}}
	clk := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	g := &groupCache{api: api, now: clk.now, m: map[string]groupEntry{}}
	ctx := context.Background()
	check := func(when string, wantIn, wantUnchecked []string) {
		t.Helper()
		in, unchecked, _ := g.groupsOf(ctx, "U5", []string{"S1"})
		if !slices.Equal(in, wantIn) || !slices.Equal(unchecked, wantUnchecked) {
			t.Errorf("%s: in %v, unchecked %v; want %v, %v", when, in, unchecked, wantIn, wantUnchecked)
		}
	}
	check("Slack answers", []string{"S1"}, nil)

	api.err = errors.New("internal_error")
	clk.t = clk.t.Add(groupTTL + time.Minute)
	check("expired, Slack down", []string{"S1"}, nil)
	clk.t = clk.t.Add(groupStaleLimit - 2*time.Minute)
	check("just inside the bound", []string{"S1"}, nil)
	clk.t = clk.t.Add(2 * time.Minute)
	check("past the bound", nil, []string{"S1"})
	if api.calls != 4 {
		t.Errorf("%d calls to Slack, want 4 (every look past the TTL asks again)", api.calls)
	}

	api.err = nil
	check("Slack answers again", []string{"S1"}, nil)
}

func TestDecideSaysWhenTheGroupCouldNotBeChecked(t *testing.T) {
	pol, err := policy.Parse("p.yaml", []byte(`
presets:
  nightly: {cluster: 52, package: 434}
rules:
  - name: on-call
    groups: [S0ONCALL]
    channels: ["*"]
    presets: [nightly]
  - name: raw
    users: [U1]
    channels: ["*"]
    packages: [434]
    clusters: [52]
`))
	if err != nil {
		t.Fatal(err)
	}
	api := &fakeGroups{err: errors.New("internal_error")}
	clk := &clock{t: time.Now()}
	b := &Bot{cfg: Config{Policy: pol}, log: slog.New(slog.DiscardHandler),
		groups: &groupCache{api: api, now: clk.now, m: map[string]groupEntry{}}}
	req := Request{UserID: "U5", ChannelID: "C1"}
	ctx := context.Background()

	d := b.decide(ctx, req, commands.Run{Preset: "nightly"})
	if d.Allowed || !strings.Contains(d.Reason, "user group could not be checked with Slack") {
		t.Errorf("group rule, Slack down: %+v, want a denial that says the group could not be checked", d)
	}
	// No group rule could allow this: the note would mislead.
	d = b.decide(ctx, req, commands.Run{ClusterID: 52, PackageID: 434})
	if d.Allowed || strings.Contains(d.Reason, "could not be checked") {
		t.Errorf("raw run no group allows: %+v, want a plain denial", d)
	}
	api.err, api.members = nil, map[string][]string{"S0ONCALL": {"U5"}}
	if d := b.decide(ctx, req, commands.Run{Preset: "nightly"}); !d.Allowed {
		t.Errorf("Slack back: %+v, want allowed", d)
	}
}

func TestStaleRecordedPresetIsARawRun(t *testing.T) {
	pol, err := policy.Parse("p.yaml", []byte(`
presets:
  nightly: {cluster: 52, package: 434}
  weekly: {cluster: 60, package: 434}
  daily: {cluster: 52, package: 500}
rules:
  - {users: ["*"], channels: ["*"], presets: ["*"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := &Bot{cfg: Config{Policy: pol}}
	vars := map[string]string{"SFTP_LOGIN": "x"}
	for _, c := range []struct {
		preset     string
		cluster    int64
		wantPreset string
	}{
		{"nightly", 52, "nightly"}, // unchanged
		{"NIGHTLY", 52, "NIGHTLY"}, // names compare without case
		{"weekly", 52, ""},         // changed cluster
		{"daily", 52, ""},          // changed package
		{"monthly", 52, ""},        // removed
		{"", 52, ""},
	} {
		rec := job.Record{Run: commands.Run{Preset: c.preset, ClusterID: c.cluster, PackageID: 434, Variables: vars, SecretNames: []string{"SFTP_LOGIN"}}}
		l := b.recorded(context.Background(), rec)
		if l.Preset != c.wantPreset || l.ClusterID != 52 || l.PackageID != 434 || l.Variables["SFTP_LOGIN"] != "x" ||
			!slices.Equal(l.SecretNames, []string{"SFTP_LOGIN"}) {
			t.Errorf("recorded(%q on cluster %d) = %+v, want preset %q and the recorded run", c.preset, c.cluster, l, c.wantPreset)
		}
	}
}

// A re-run takes its preset's max_runtime as the policy has it now; a run
// that is raw now has none, whatever it was recorded with.
func TestRecordedTakesThePresetsCurrentMaxRuntime(t *testing.T) {
	pol, err := policy.Parse("p.yaml", []byte(`
presets:
  nightly: {cluster: 52, package: 434, max_runtime: 45m}
  weekly: {cluster: 60, package: 434, max_runtime: 3h}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := &Bot{cfg: Config{Policy: pol}}
	for _, c := range []struct {
		preset string
		want   time.Duration
	}{{"nightly", 45 * time.Minute}, {"weekly", 0}, {"", 0}} {
		rec := job.Record{Run: commands.Run{Preset: c.preset, ClusterID: 52, PackageID: 434, MaxRuntime: time.Hour}}
		if got := b.recorded(context.Background(), rec).MaxRuntime; got != c.want {
			t.Errorf("recorded(%q).MaxRuntime = %v, want %v", c.preset, got, c.want)
		}
	}
}
