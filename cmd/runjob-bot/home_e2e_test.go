package main

import (
	"context"
	"strings"
	"testing"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// openHome opens user's Home tab and returns the view the bot published
// after the one seen last (its hash; "" for none).
func (e *e2e) openHome(user string, after string) slacktest.View {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := e.slack.SendAppHomeOpened(ctx, user); err != nil {
		e.t.Fatal(err)
	}
	return e.waitHome(user, after)
}

func (e *e2e) waitHome(user string, after string) slacktest.View {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	v, err := e.slack.WaitView(ctx, func(v slacktest.View) bool {
		return v.Type == slacktest.ViewHome && v.User == user && v.Hash != after
	})
	if err != nil {
		e.t.Fatalf("waiting for %s's home tab: %v\n%s", user, err, e.logs.String())
	}
	return v
}

// homeJobs are the job ids shown in a part ("mine", "running") of a home tab.
func homeJobs(v slacktest.View, part string) []string {
	var ids []string
	for _, b := range strings.Split(string(v.Blocks), `"block_id":"home_`+part+`_`)[1:] {
		id, _, _ := strings.Cut(b, `"`)
		if !strings.HasPrefix(id, "actions_") && id != "none" && id != "more" {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestE2EHomeTabShowsMyJobsAndMyChannelsRunningOnes(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusCompleted)
	e.waitCard(1001, "completed")
	e.command("U1", "C1", "cluster=52 package=435")
	e.waitCard(1002, "idle")
	e.command("U2", "C2", "cluster=52 package=512") // a channel U1 is not in
	e.waitCard(1003, "idle")
	e.command("U3", "C1", "cluster=53 package=601")
	e.waitCard(1004, "idle")

	v := e.openHome("U1", "")
	if got := strings.Join(homeJobs(v, "mine"), ","); got != "1002,1001" {
		t.Errorf("U1's jobs on the tab: %s, want 1002,1001", got)
	}
	if got := strings.Join(homeJobs(v, "running"), ","); got != "1004,1002" {
		t.Errorf("running in U1's channels: %s, want 1004,1002", got)
	}
	blocks := string(v.Blocks)
	if !strings.Contains(blocks, `|orders_daily\u003e (434) on prod-etl (52) · in \u003c#C1\u003e`) || !strings.Contains(blocks, render.ActionEdit) {
		t.Errorf("the tab lacks names or the finished job's buttons: %s", blocks)
	}

	// Stop from the Home tab acts in the job's channel, then redraws the tab.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := e.slack.SendHomeAction(ctx, "U1", render.ActionStop, "1004"); err != nil {
		t.Fatal(err)
	}
	e.waitCard(1004, "stopping")
	v = e.waitHome("U1", v.Hash)

	// Once in C2, U1 sees its running job; out of it again, a click on
	// that job from the old tab is refused and nothing is stopped.
	e.slack.SetMembers("C2", "U1")
	v = e.openHome("U1", v.Hash)
	if got := strings.Join(homeJobs(v, "running"), ","); !strings.Contains(got, "1003") {
		t.Fatalf("running in U1's channels once in C2: %s", got)
	}
	e.slack.SetNotMember("C2", "U1")
	if _, err := e.slack.SendHomeAction(ctx, "U1", render.ActionStop, "1003"); err != nil {
		t.Fatal(err)
	}
	v = e.waitHome("U1", v.Hash)
	if !strings.Contains(string(v.Blocks), "Job 1003 belongs to a channel you are not in") {
		t.Errorf("no notice of the refusal: %s", v.Blocks)
	}
	if j, _ := e.xp.Job(1003); j.Status == xplenty.StatusStopped || j.Status == xplenty.StatusPendingStoppage {
		t.Errorf("job 1003 was stopped from the Home tab of someone not in its channel")
	}
	if got := strings.Join(homeJobs(v, "running"), ","); strings.Contains(got, "1003") {
		t.Errorf("the tab still shows job 1003: %s", got)
	}
}

// When Slack will not say which channels the person is in (a scope the
// app lacks, an outage), the tab must not claim that nothing is running
// in their channels: it says that it could not check.
func TestE2EHomeTabSaysWhenItCannotCheckChannels(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.slack.SetMembers("C1", "U1")
	e.command("U3", "C1", "cluster=52 package=434")
	e.waitCard(1001, "idle")

	e.slack.FailNext("users.conversations", 10, "missing_scope")
	v := e.openHome("U1", "")
	blocks := string(v.Blocks)
	if strings.Contains(blocks, "Nothing is running in your channels") {
		t.Errorf("the tab says nothing runs in U1's channels while job 1001 runs in C1, which Slack was not asked about: %s", blocks)
	}
	if !strings.Contains(blocks, "could not check") {
		t.Errorf("the tab does not say that it could not check U1's channels: %s", blocks)
	}
}

// Anyone in the workspace can open the app's Home tab. For someone the
// allowlist keeps out of every channel with a running job, the tab shows
// nothing running without asking Slack for their channels: that call
// shares a slow budget with the policy's user-group lookups.
func TestE2EHomeTabOfSomeoneNotAllowedAsksSlackNothing(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.cfg.AllowedUsers = []string{"U1"}
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	e.waitCard(1001, "idle")
	e.slack.SetMembers("C1", "U9")

	v := e.openHome("U9", "")
	if got := homeJobs(v, "running"); len(got) != 0 {
		t.Errorf("U9, not allowed, sees running jobs %v", got)
	}
	if n := len(e.slack.Calls("users.conversations")); n != 0 {
		t.Errorf("opening the tab of someone the allowlist keeps out cost %d users.conversations calls, want 0", n)
	}
}
