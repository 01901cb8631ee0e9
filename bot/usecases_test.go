package bot

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/bot/catalog"
	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The bot's use cases, each driven through HandleCommand or HandleAction
// the way the socket drives them, with the real store on the real Redis and
// the Slack and Xplenty fakes speaking their wire formats.

// useCase is a bot wired to fakes, recording the outcome of each request.
type useCase struct {
	bot   *Bot
	store *store.Store
	slack *slacktest.Server
	xp    *xplentytest.Server

	mu       sync.Mutex
	outcomes []string
	events   int
}

type useCaseOptions struct {
	users, channels []string // allowlists; default "*"
	policy          string   // policy YAML; "" is no policy
	// coldCatalog leaves the catalog unread: the first act that needs a
	// name or a list reads it.
	coldCatalog bool
}

func newUseCase(t *testing.T, o useCaseOptions) *useCase {
	t.Helper()
	sl := slacktest.New(slacktest.Options{})
	t.Cleanup(sl.Close)
	xs := xplentytest.New(xplentytest.Options{})
	t.Cleanup(xs.Close)
	rdb, prefix := redistest.Client(t)
	st, err := store.New(rdb, store.Options{Prefix: prefix, SecretKey: []byte("use-case key")})
	if err != nil {
		t.Fatal(err)
	}
	xp, err := xplenty.New(xplenty.Config{BaseURL: xs.URL(), AccountID: xs.AccountID(), APIKey: xs.APIKey()})
	if err != nil {
		t.Fatal(err)
	}
	if o.users == nil {
		o.users = []string{"*"}
	}
	if o.channels == nil {
		o.channels = []string{"*"}
	}
	access, err := ParseAllowlist(o.users, o.channels)
	if err != nil {
		t.Fatal(err)
	}
	var pol *policy.Policy
	if o.policy != "" {
		if pol, err = policy.Parse("policy.yaml", []byte(o.policy)); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := catalog.New(st, xp, catalog.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The catalog is read once here, as a running bot would have it, so
	// that the tests count and fail the calls of the acts themselves.
	if !o.coldCatalog && (!cat.Packages(context.Background()).Known() || !cat.Clusters(context.Background()).Known()) {
		t.Fatal("the catalog could not be read")
	}
	xs.ResetRequests()
	api := slack.New(sl.BotToken(), slack.OptionAPIURL(sl.APIURL()))
	uc := &useCase{store: st, slack: sl, xp: xs}
	uc.bot, err = New(Config{Poster: deliver.NewPoster(api, deliver.PosterOptions{}), Store: st,
		Xplenty: xp, Access: access, Policy: pol, Catalog: cat,
		OnCommand: func(_ string, o Outcome) {
			uc.mu.Lock()
			uc.outcomes = append(uc.outcomes, o.String())
			uc.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	return uc
}

// req is a request from user in channel, as a new event.
func (uc *useCase) req(user, channel string) Request {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	uc.events++
	return Request{UserID: user, ChannelID: channel, EventKey: "event-" + strconv.Itoa(uc.events)}
}

// command runs text as user in channel and returns its outcome.
func (uc *useCase) command(t *testing.T, user, channel, text string) string {
	t.Helper()
	uc.bot.HandleCommand(context.Background(), uc.req(user, channel), text)
	return uc.last()
}

// click presses a button as user in channel and returns its outcome.
func (uc *useCase) click(t *testing.T, user, channel, actionID, value string) string {
	t.Helper()
	uc.bot.HandleAction(context.Background(), uc.req(user, channel), actionID, value)
	return uc.last()
}

func (uc *useCase) last() string {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if len(uc.outcomes) == 0 {
		return ""
	}
	return uc.outcomes[len(uc.outcomes)-1]
}

// answer is the text of the last message shown only to user.
func (uc *useCase) answer(user string) string {
	eph := uc.slack.Ephemerals(user)
	if len(eph) == 0 {
		return ""
	}
	return eph[len(eph)-1].Text
}

// cards are the top-level messages the bot posted in channel.
func (uc *useCase) cards(channel string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range uc.slack.Messages() {
		if m.Channel == channel && !m.Ephemeral && m.ThreadTS == "" {
			out = append(out, m)
		}
	}
	return out
}

// audit is the audit trail so far.
func (uc *useCase) audit(t *testing.T) []store.AuditEntry {
	t.Helper()
	entries, err := uc.store.AuditSince(context.Background(), time.Now().Add(-time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// onlyJob is the one job Xplenty was asked to run.
func (uc *useCase) onlyJob(t *testing.T) xplenty.Job {
	t.Helper()
	jobs := uc.xp.Jobs()
	if len(jobs) != 1 {
		t.Fatalf("Xplenty has %d jobs, want 1", len(jobs))
	}
	return jobs[0]
}

func TestUseCaseRunStartsTracksAndAudits(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434 DATE=2026-11-01"); got != "started" {
		t.Fatalf("outcome = %q, want started; answer %q", got, uc.answer("U1"))
	}
	job := uc.onlyJob(t)
	if job.ClusterID != 52 || job.PackageID != 434 || job.Variables["DATE"] != "2026-11-01" {
		t.Errorf("Xplenty ran %+v", job)
	}
	rec, err := uc.store.Get(context.Background(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	cards := uc.cards("C1")
	if len(cards) != 1 || rec.CardTS != cards[0].TS || rec.Channel != "C1" || rec.Requester != "U1" {
		t.Fatalf("record %+v does not name the one card %+v", rec, cards)
	}
	if !strings.Contains(cards[0].Text, "434") {
		t.Errorf("card = %q, want it to name the package", cards[0].Text)
	}
	entries := uc.audit(t)
	if len(entries) != 1 || entries[0].Action != "run" || entries[0].Outcome != "started" || entries[0].JobID != job.ID {
		t.Errorf("audit = %+v, want one run entry for job %d", entries, job.ID)
	}
}

func TestUseCaseBadInputChangesNothing(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	if got := uc.command(t, "U1", "C1", "cluster=52 package=4x4"); got != "invalid" {
		t.Errorf("outcome = %q, want invalid", got)
	}
	if a := uc.answer("U1"); !strings.Contains(a, "4x4") {
		t.Errorf("answer = %q, want it to quote the wrong value", a)
	}
	if n := uc.xp.RequestCount(); n != 0 {
		t.Errorf("Xplenty got %d requests for a command that does not parse", n)
	}
	if c := uc.cards("C1"); len(c) != 0 {
		t.Errorf("cards posted: %+v", c)
	}
}

func TestUseCaseAllowlistDeniesAndAudits(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{users: []string{"U1"}, channels: []string{"C1"}})
	for _, tc := range []struct{ user, channel string }{{"U2", "C1"}, {"U1", "C2"}} {
		if got := uc.command(t, tc.user, tc.channel, "cluster=52 package=434"); got != "denied" {
			t.Errorf("%s in %s: outcome = %q, want denied", tc.user, tc.channel, got)
		}
		if a := uc.answer(tc.user); !strings.Contains(a, "not allowed") {
			t.Errorf("%s in %s: answer = %q", tc.user, tc.channel, a)
		}
	}
	if n := uc.xp.RequestCount(); n != 0 {
		t.Errorf("Xplenty got %d requests from people the allowlist denies", n)
	}
	entries := uc.audit(t)
	if len(entries) != 2 || entries[0].Action != "deny" || entries[1].Action != "deny" {
		t.Errorf("audit = %+v, want two deny entries", entries)
	}
}

func TestUseCaseRedeliveredEventDoesNothingTwice(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	req := uc.req("U1", "C1")
	uc.bot.HandleCommand(context.Background(), req, "cluster=52 package=434")
	uc.bot.HandleCommand(context.Background(), req, "cluster=52 package=434")
	if got := uc.last(); got != "duplicate" {
		t.Errorf("second delivery: outcome = %q, want duplicate", got)
	}
	if jobs := uc.xp.Jobs(); len(jobs) != 1 {
		t.Errorf("Xplenty ran %d jobs for one event, want 1", len(jobs))
	}
}

func TestUseCaseXplentyRefusalIsOnTheCard(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	uc.xp.FailNext(1, 422, "Package 434 has no published version")
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434"); got != "refused" {
		t.Fatalf("outcome = %q, want refused", got)
	}
	cards := uc.cards("C1")
	if len(cards) != 1 || !strings.Contains(cards[0].Text+string(cards[0].Blocks), "no published version") {
		t.Errorf("card = %+v, want Xplenty's reason", cards)
	}
	if _, err := uc.store.StaleIntents(context.Background(), time.Now().Add(time.Hour), 10); err != nil {
		t.Fatal(err)
	} else if left, _ := uc.store.StaleIntents(context.Background(), time.Now().Add(time.Hour), 10); len(left) != 0 {
		t.Errorf("a refused launch was kept for recovery: %v", left)
	}
}

func TestUseCaseChannelWithoutTheBotStartsNothing(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	uc.slack.SetNotInChannel("C9")
	if got := uc.command(t, "U1", "C9", "cluster=52 package=434"); got != "cannot_post" {
		t.Errorf("outcome = %q, want cannot_post", got)
	}
	if n := uc.xp.RequestCount(); n != 0 {
		t.Errorf("Xplenty got %d requests though nobody could follow the job", n)
	}
}

func TestUseCaseStopAndRerunFromTheCard(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434 DATE=2026-11-01"); got != "started" {
		t.Fatalf("run: %q", got)
	}
	job := uc.onlyJob(t)
	id := strconv.FormatInt(job.ID, 10)

	if got := uc.click(t, "U2", "C1", render.ActionRerun, id); got != "started" {
		t.Fatalf("re-run: outcome = %q, answer %q", got, uc.answer("U2"))
	}
	if got := uc.click(t, "U2", "C1", render.ActionRerun, id); got != "duplicate" {
		t.Errorf("second re-run click: outcome = %q, want duplicate", got)
	}
	jobs := uc.xp.Jobs()
	if len(jobs) != 2 {
		t.Fatalf("Xplenty has %d jobs, want 2", len(jobs))
	}
	second := jobs[0]
	if second.ID == job.ID {
		second = jobs[1]
	}
	rerun, err := uc.store.Get(context.Background(), second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rerun.RerunOf != job.ID || rerun.Variables["DATE"] != "2026-11-01" || rerun.Requester != "U2" {
		t.Errorf("re-run record = %+v, want job %d's parameters, requested by U2", rerun, job.ID)
	}
	old, _ := uc.store.Get(context.Background(), job.ID)
	if replies := uc.slack.ThreadReplies("C1", old.CardTS); len(replies) != 1 || !strings.Contains(replies[0].Text, strconv.FormatInt(second.ID, 10)) {
		t.Errorf("old thread = %+v, want a note linking job %d", replies, second.ID)
	}

	if got := uc.click(t, "U1", "C1", render.ActionStop, id); got != "stopped" {
		t.Fatalf("stop: outcome = %q, answer %q", got, uc.answer("U1"))
	}
	if j, _ := uc.xp.Job(job.ID); j.Status == xplenty.StatusRunning || j.Status == xplenty.StatusIdle {
		t.Errorf("job %d is %q after Stop", job.ID, j.Status)
	}
	if rec, _ := uc.store.Get(context.Background(), job.ID); rec.StopRequestedBy != "U1" {
		t.Errorf("record after Stop = %+v, want the stop requested by U1", rec)
	}
}

func TestUseCaseJobIsActedOnOnlyInItsChannel(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434"); got != "started" {
		t.Fatalf("run: %q", got)
	}
	id := strconv.FormatInt(uc.onlyJob(t).ID, 10)
	for _, do := range []func() string{
		func() string { return uc.click(t, "U1", "C2", render.ActionStop, id) },
		func() string { return uc.click(t, "U1", "C2", render.ActionRerun, id) },
		func() string { return uc.command(t, "U1", "C2", "stop "+id) },
		func() string { return uc.command(t, "U1", "C2", "rerun "+id) },
	} {
		if got := do(); got != "denied" {
			t.Errorf("outcome = %q, want denied", got)
		}
		if a := uc.answer("U1"); !strings.Contains(a, "another channel") {
			t.Errorf("answer = %q", a)
		}
	}
	if jobs := uc.xp.Jobs(); len(jobs) != 1 || jobs[0].Status != xplenty.StatusIdle && jobs[0].Status != xplenty.StatusRunning {
		t.Errorf("jobs after refused acts: %+v", jobs)
	}
}

const confirmPolicy = `
protected:
  packages: [434]
`

func TestUseCaseProtectedRunWaitsForItsRunner(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{policy: confirmPolicy})
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434"); got != "confirm" {
		t.Fatalf("outcome = %q, want confirm; answer %q", got, uc.answer("U1"))
	}
	if n := uc.xp.RequestCount(); n != 0 {
		t.Fatalf("Xplenty got %d requests before the confirmation", n)
	}
	eph := uc.slack.Ephemerals("U1")
	if len(eph) == 0 {
		t.Fatal("no confirmation prompt")
	}
	token := buttonValue(t, eph[len(eph)-1], render.ActionConfirm)

	if got := uc.click(t, "U2", "C1", render.ActionConfirm, token); got != "denied" {
		t.Errorf("someone else's confirmation: outcome = %q, want denied", got)
	}
	if got := uc.click(t, "U1", "C1", render.ActionConfirm, token); got != "started" {
		t.Fatalf("runner's confirmation: outcome = %q, want started", got)
	}
	if got := uc.click(t, "U1", "C1", render.ActionConfirm, token); got != "expired" && got != "duplicate" {
		t.Errorf("second confirmation: outcome = %q, want expired or duplicate", got)
	}
	if jobs := uc.xp.Jobs(); len(jobs) != 1 {
		t.Errorf("Xplenty ran %d jobs for one confirmed run", len(jobs))
	}
}

func TestUseCaseCancelStartsNothing(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{policy: confirmPolicy})
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434"); got != "confirm" {
		t.Fatalf("outcome = %q, want confirm", got)
	}
	eph := uc.slack.Ephemerals("U1")
	token := buttonValue(t, eph[len(eph)-1], render.ActionCancel)
	if got := uc.click(t, "U1", "C1", render.ActionCancel, token); got != "cancelled" {
		t.Errorf("outcome = %q, want cancelled", got)
	}
	if got := uc.click(t, "U1", "C1", render.ActionConfirm, token); got != "expired" {
		t.Errorf("confirming a cancelled run: outcome = %q, want expired", got)
	}
	if n := uc.xp.RequestCount(); n != 0 {
		t.Errorf("Xplenty got %d requests for a cancelled run", n)
	}
}

func TestUseCasePresetRunsItsTargetAndHidesItsSecret(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{policy: `
presets:
  nightly:
    description: Nightly load
    cluster: 52
    package: 434
    variables: {MODE: full, SFTP_PASS: "s3cr3t-value"}
    secret_variables: [SFTP_PASS]
`})
	if got := uc.command(t, "U1", "C1", "nightly DATE=2026-11-01"); got != "started" {
		t.Fatalf("outcome = %q, answer %q", got, uc.answer("U1"))
	}
	job := uc.onlyJob(t)
	if job.ClusterID != 52 || job.PackageID != 434 || job.Variables["SFTP_PASS"] != "s3cr3t-value" || job.Variables["DATE"] != "2026-11-01" {
		t.Errorf("Xplenty ran %+v", job)
	}
	for _, m := range uc.slack.Messages() {
		if strings.Contains(m.Text+string(m.Blocks), "s3cr3t-value") {
			t.Errorf("a Slack message shows the secret: %q", m.Text)
		}
	}
	for _, e := range uc.audit(t) {
		if strings.Contains(e.Variables+e.Detail, "s3cr3t-value") {
			t.Errorf("the audit trail shows the secret: %+v", e)
		}
	}
	if got := uc.command(t, "U1", "C1", "nightlly"); got != "invalid" {
		t.Errorf("unknown preset: outcome = %q, want invalid", got)
	}
}

func TestUseCaseRuleDeniesAndSaysWhy(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{policy: `
rules:
  - name: loaders
    users: [U1]
    channels: [C1]
    packages: [434]
    clusters: [52]
`})
	if got := uc.command(t, "U2", "C1", "cluster=52 package=434"); got != "denied" {
		t.Errorf("outcome = %q, want denied", got)
	}
	if a := uc.answer("U2"); !strings.HasPrefix(a, "Not allowed") {
		t.Errorf("answer = %q", a)
	}
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434"); got != "started" {
		t.Errorf("the rule's user: outcome = %q, want started", got)
	}
}

func TestUseCaseStatusAndList(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	if got := uc.command(t, "U1", "C1", "list"); got != "list" || !strings.Contains(uc.answer("U1"), "No jobs") {
		t.Errorf("empty list: %q, %q", got, uc.answer("U1"))
	}
	uc.command(t, "U1", "C1", "cluster=52 package=434")
	id := strconv.FormatInt(uc.onlyJob(t).ID, 10)
	if got := uc.command(t, "U1", "C1", "status "+id); got != "status" || !strings.Contains(uc.answer("U1"), "Job "+id) {
		t.Errorf("status: %q, %q", got, uc.answer("U1"))
	}
	if got := uc.command(t, "U1", "C1", "list"); got != "list" || !strings.Contains(uc.answer("U1"), "Job "+id) {
		t.Errorf("list: %q, %q", got, uc.answer("U1"))
	}
	if got := uc.command(t, "U1", "C1", "status 99999"); got != "invalid" {
		t.Errorf("status of an unknown job: %q, %q", got, uc.answer("U1"))
	}
}

func TestUseCaseDatabaseDownStartsNothing(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	rdb, _ := redistest.Client(t)
	broken, err := store.New(rdb, store.Options{Prefix: "unused:"})
	if err != nil {
		t.Fatal(err)
	}
	_ = rdb.Close()
	uc.bot.cfg.Store = broken
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434"); got != "error" {
		t.Errorf("outcome = %q, want error", got)
	}
	if a := uc.answer("U1"); !strings.Contains(a, "database") {
		t.Errorf("answer = %q", a)
	}
	if n := uc.xp.RequestCount(); n != 0 {
		t.Errorf("Xplenty got %d requests while the database was down", n)
	}
}

// buttonValue is the value of the button actionID in message m.
func buttonValue(t *testing.T, m slacktest.Message, actionID string) string {
	t.Helper()
	var blocks slack.Blocks
	if err := blocks.UnmarshalJSON(m.Blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks.BlockSet {
		a, ok := b.(*slack.ActionBlock)
		if !ok {
			continue
		}
		for _, e := range a.Elements.ElementSet {
			if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == actionID {
				return btn.Value
			}
		}
	}
	t.Fatalf("no %s button in %s", actionID, m.Blocks)
	return ""
}
