package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/commands"
	jobrec "github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// A launch left behind for a job that is tracked (the process died after
// recording the job, before forgetting the launch) must not make recovery
// write "outcome unknown" over that job's card: the card is left alone and
// the launch forgotten.
func TestRecoverLeavesTheCardOfATrackedJob(t *testing.T) {
	ctx := context.Background()
	f := newRecoverFixture(t)
	l := commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DATE": "2026-11-01"}}
	in := f.launchCutShort(t, l)
	job, err := f.xp.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434, Variables: l.Variables})
	if err != nil {
		t.Fatal(err)
	}
	rec := jobrec.Record{JobID: job.ID, Channel: in.Channel, CardTS: in.CardTS, Requester: in.Requester,
		Run: commands.Run{ClusterID: 52, PackageID: 434, Variables: l.Variables}, Status: xplenty.StatusRunning}
	if err := f.store.Track(ctx, rec); err != nil { // the launch is not forgotten
		t.Fatal(err)
	}
	if err := f.bot.cfg.Poster.Update(ctx, in.Channel, in.CardTS, render.Card(rec)); err != nil {
		t.Fatal(err)
	}
	before, _ := f.slack.Message("C1", in.CardTS)

	f.bot.RecoverLaunches(ctx)
	after, _ := f.slack.Message("C1", in.CardTS)
	if after.Text != before.Text || strings.Contains(after.Text, "may have started") {
		t.Errorf("card of tracked job %d rewritten:\n%q\nwas\n%q", job.ID, after.Text, before.Text)
	}
	if left, _ := f.store.StaleIntents(ctx, time.Now(), 10); len(left) != 0 {
		t.Errorf("launch not forgotten: %v", left)
	}
	if got, err := f.store.Get(ctx, job.ID); err != nil || got.CardTS != in.CardTS {
		t.Errorf("record = %+v, %v", got, err)
	}
}

// Two identical launches cut short, one job: it could be either person's,
// so neither card takes it.
func TestRecoverDoesNotTakeAJobAnIdenticalLaunchCouldOwn(t *testing.T) {
	ctx := context.Background()
	f := newRecoverFixture(t)
	l := commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DATE": "2026-11-01"}}
	mine := f.launchCutShort(t, l)
	theirs := f.launchCutShort(t, l)
	theirs.Requester = "U2"
	if err := f.store.SaveIntent(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	job, err := f.xp.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434, Variables: l.Variables})
	if err != nil {
		t.Fatal(err)
	}
	f.bot.RecoverLaunches(ctx)
	if got, err := f.store.Get(ctx, job.ID); !errors.Is(err, store.ErrNotTracked) {
		t.Errorf("job %d was taken by the card of %s, though another identical launch was pending (err %v)", job.ID, got.Requester, err)
	}
	for _, in := range []store.Intent{mine, theirs} {
		if m, _ := f.slack.Message("C1", in.CardTS); !strings.Contains(m.Text, "may have started") {
			t.Errorf("card %s = %q, want the outcome-unknown card", in.CardTS, m.Text)
		}
	}
}

// After a lost run answer, a job is not adopted while another launch of the
// same package, cluster and variables is pending: it may be that one's. A
// launch that differs (other variables) does not stand in the way.
func TestLookForJobRespectsPendingTwins(t *testing.T) {
	ctx := context.Background()
	f := newRecoverFixture(t)
	l := commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DATE": "2026-11-01"}}
	mine := f.launchCutShort(t, l)
	other := l
	other.Variables = map[string]string{"DATE": "2026-11-02"}
	f.launchCutShort(t, other)
	job, err := f.xp.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434, Variables: l.Variables})
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := f.bot.lookForJob(ctx, mine)
	if err != nil || n != 1 || got == nil || got.ID != job.ID {
		t.Fatalf("lookForJob = %v, %d, %v; want job %d alone (the other launch differs)", got, n, err, job.ID)
	}
	f.launchCutShort(t, l) // a twin
	if got, n, _ := f.bot.lookForJob(ctx, mine); got != nil || n < 2 {
		t.Errorf("lookForJob = %v, %d; want no job while an identical launch is pending", got, n)
	}
}

// When the job found after a lost answer is already followed on another
// card, the card that lost the race says so instead of "Starting…".
func TestAdoptedElsewhereSaysSo(t *testing.T) {
	ctx := context.Background()
	f := newRecoverFixture(t)
	l := commands.Run{ClusterID: 52, PackageID: 434}
	in := f.launchCutShort(t, l)
	job, err := f.xp.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434})
	if err != nil {
		t.Fatal(err)
	}
	job.HTMLURL = "https://app.xplenty.com/acme/jobs/1001"
	winner := jobrec.Record{JobID: job.ID, Channel: "C1", CardTS: "1700000999.000100", Requester: "U2",
		Run: commands.Run{ClusterID: 52, PackageID: 434}, Status: xplenty.StatusRunning, HTMLURL: job.HTMLURL}
	if err := f.store.Track(ctx, winner); err != nil {
		t.Fatal(err)
	}
	if id, ok := f.bot.adopt(ctx, in, &job); ok || id != 0 {
		t.Errorf("adopt = %d, %v; want 0, false", id, ok)
	}
	m, _ := f.slack.Message("C1", in.CardTS)
	for _, want := range []string{"Job 1001", "another card"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("card = %q, want it to say %q", m.Text, want)
		}
	}
	if !strings.Contains(string(m.Blocks), job.HTMLURL) {
		t.Errorf("card does not link the job's page: %s", m.Blocks)
	}
	if left, _ := f.store.StaleIntents(ctx, time.Now(), 10); len(left) != 0 {
		t.Errorf("launch not forgotten: %v", left)
	}
}

// A launch recovered after its job already ended is followed to its end:
// the job is recorded finished the way the watcher records it (a reply
// queued, out of the active set), not tracked as finished from the start,
// which would queue no reply and leave the job polled forever.
func TestRecoverAJobThatAlreadyEnded(t *testing.T) {
	ctx := context.Background()
	f := newRecoverFixture(t)
	l := commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DATE": "2026-11-01"}}
	f.launchCutShort(t, l)
	job, err := f.xp.CreateJob(xplenty.RunRequest{ClusterID: 52, PackageID: 434, Variables: l.Variables})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.xp.SetStatus(job.ID, xplenty.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	f.bot.RecoverLaunches(ctx)
	rec, err := f.store.Get(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != xplenty.StatusCompleted || rec.FinishedAt.IsZero() {
		t.Errorf("record = status %q, finished %v; want completed and finished", rec.Status, rec.FinishedAt)
	}
	if n, err := f.store.ActiveCount(ctx); err != nil || n != 0 {
		t.Errorf("active jobs = %d, %v; want 0 (the job has ended)", n, err)
	}
	if q, err := f.store.Queues(ctx); err != nil || q.Replies != 1 || q.CardsDue != 1 {
		t.Errorf("queued: %+v, %v; want the reply and the card edit", q, err)
	}
}

// After a lost run answer, a job whose dynamic variables differ from the
// launch's is not the launch's: another person's pending run that differs
// only in them must not have its job taken. When Xplenty does not echo a
// job's dynamic variables, a pending launch that differs only in them
// still counts as one that could own it.
func TestLookForJobWeighsDynamicVariables(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"DATE": "2026-11-01"}
	theirs := commands.Run{ClusterID: 52, PackageID: 434, Variables: vars, DynamicVariables: map[string]string{"NOW": "CurrentTime()"}}
	for _, tc := range []struct {
		name    string
		echoDyn bool // whether the job in Xplenty shows its dynamic variables
	}{{"echoed", true}, {"not echoed", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRecoverFixture(t)
			mine := f.launchCutShort(t, commands.Run{ClusterID: 52, PackageID: 434, Variables: vars})
			f.launchCutShort(t, theirs) // someone else's launch, still pending
			req := xplenty.RunRequest{ClusterID: 52, PackageID: 434, Variables: vars}
			if tc.echoDyn {
				req.DynamicVariables = theirs.DynamicVariables
			}
			job, err := f.xp.CreateJob(req) // only their run reached Xplenty
			if err != nil {
				t.Fatal(err)
			}
			got, n, err := f.bot.lookForJob(ctx, mine)
			if err != nil {
				t.Fatal(err)
			}
			if got != nil {
				t.Errorf("job %d (dynamic variables %v) taken for a launch without any (n=%d)", got.ID, job.DynamicVariables, n)
			}
		})
	}
}
