package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

type recoverFixture struct {
	bot   *Bot
	store *store.Store
	slack *slacktest.Server
	xp    *xplentytest.Server
}

func newRecoverFixture(t *testing.T) *recoverFixture {
	t.Helper()
	uc := newUseCase(t, useCaseOptions{})
	return &recoverFixture{bot: uc.bot, store: uc.store, slack: uc.slack, xp: uc.xp}
}

// launchCutShort leaves what a process that died after posting the card
// and sending the run request leaves: a card and an intent, nothing tracked.
func (f *recoverFixture) launchCutShort(t *testing.T, l commands.Run) store.Intent {
	t.Helper()
	ctx := context.Background()
	ts, err := f.bot.cfg.Poster.Post(ctx, "C1", render.StartingCard(render.Starting{Requester: "U1", Run: l}), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	in := store.Intent{Channel: "C1", CardTS: ts, Requester: "U1", Run: l, Asked: time.Now().Add(-3 * time.Minute)}
	if err := f.store.SaveIntent(ctx, in); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestRecoverLaunchTracksTheJobItStarted(t *testing.T) {
	f := newRecoverFixture(t)
	l := commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DB_PASSWORD": "hunter2"}, SecretNames: []string{"DB_PASSWORD"}}
	in := f.launchCutShort(t, l)
	job, err := f.xp.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434, Variables: l.Variables})
	if err != nil {
		t.Fatal(err)
	}
	f.bot.RecoverLaunches(context.Background())
	rec, err := f.store.Get(context.Background(), job.ID)
	if err != nil {
		t.Fatalf("the job was not recovered: %v", err)
	}
	if rec.CardTS != in.CardTS || rec.Requester != "U1" || rec.Variables["DB_PASSWORD"] != "hunter2" {
		t.Errorf("recovered record = %+v", rec)
	}
	if left, _ := f.store.StaleIntents(context.Background(), time.Now(), 10); len(left) != 0 {
		t.Errorf("intent not forgotten: %v", left)
	}
}

func TestRecoverLaunchWithoutAJobSaysUnknown(t *testing.T) {
	f := newRecoverFixture(t)
	in := f.launchCutShort(t, commands.Run{ClusterID: 52, PackageID: 434})
	f.bot.RecoverLaunches(context.Background())
	m, ok := f.slack.Message("C1", in.CardTS)
	if !ok || !strings.Contains(m.Text, "may have started") {
		t.Errorf("card = %q, want the outcome-unknown card", m.Text)
	}
	if left, _ := f.store.StaleIntents(context.Background(), time.Now(), 10); len(left) != 0 {
		t.Errorf("intent not forgotten: %v", left)
	}
	if _, err := f.store.Get(context.Background(), 1001); !errors.Is(err, store.ErrNotTracked) {
		t.Errorf("a job was tracked from nothing: %v", err)
	}
}

// A launch sealed with a key that is gone (rotated without
// RUNJOB_SECRET_KEY_PREVIOUS) cannot be read, but its card can be found
// from its id: the card says the bot lost track of it and links the jobs
// page, and the launch is forgotten, not dropped silently.
func TestRecoverLaunchThatCannotBeReadTellsItsCard(t *testing.T) {
	f := newRecoverFixture(t)
	rdb, prefix := redistest.Client(t)
	stores := map[string]*store.Store{}
	for _, key := range []string{"old key", "new key"} {
		s, err := store.New(rdb, store.Options{Prefix: prefix, SecretKey: []byte(key)})
		if err != nil {
			t.Fatal(err)
		}
		stores[key] = s
	}
	f.store, f.bot.cfg.Store = stores["old key"], stores["old key"]
	in := f.launchCutShort(t, commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DB_PASSWORD": "hunter2"}, SecretNames: []string{"DB_PASSWORD"}})
	rotated := stores["new key"]
	f.bot.cfg.Store = rotated

	// A few minutes old, it is left for a replica that may have the key
	// (a rolling rotation): the card is not touched, the launch is kept.
	before, _ := f.slack.Message("C1", in.CardTS)
	f.bot.RecoverLaunches(context.Background())
	if m, _ := f.slack.Message("C1", in.CardTS); m.Text != before.Text {
		t.Errorf("card of a launch another replica may read was rewritten: %q", m.Text)
	}
	if left, _ := stores["old key"].StaleIntents(context.Background(), time.Now(), 10); len(left) != 1 {
		t.Fatalf("launch not kept for the replica with the key: %v", left)
	}

	// Past the grace, no replica had the key: it is lost.
	data, _ := stores["old key"].StaleIntents(context.Background(), time.Now(), 10)
	older := *data[in.ID()]
	older.Asked = time.Now().Add(-2 * time.Hour)
	if err := stores["old key"].SaveIntent(context.Background(), older); err != nil {
		t.Fatal(err)
	}
	f.bot.RecoverLaunches(context.Background())
	m, ok := f.slack.Message("C1", in.CardTS)
	page := f.bot.cfg.Xplenty.JobsPageURL()
	if !ok || !strings.Contains(m.Text, "lost track") || !strings.Contains(string(m.Blocks), page) {
		t.Errorf("card = %q %s, want it to say the bot lost track of the launch, with a link to %s", m.Text, m.Blocks, page)
	}
	if strings.Contains(m.Text+string(m.Blocks), "hunter2") {
		t.Error("the card shows the secret")
	}
	if left, _ := rotated.StaleIntents(context.Background(), time.Now(), 10); len(left) != 0 {
		t.Errorf("intent not forgotten: %v", left)
	}
}
