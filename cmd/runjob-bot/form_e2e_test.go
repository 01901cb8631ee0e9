package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// The run form end to end, through the fake Slack as Slack sends it over
// Socket Mode (views.open, block_suggestion, block_actions, views.update,
// view_submission). The fake Xplenty's catalog: packages 434
// orders_daily (DATE, REGION, FULL_REFRESH declared), 435 orders_backfill,
// 512 customers_sync, 601 events_hourly, 77 legacy_export (archived);
// clusters 52 prod-etl (available), 53 prod-etl-large (idle), 60
// sandbox-dev, 48 old-etl (terminated).

// waitForm waits for user's open run form that pred accepts.
func (e *e2e) waitForm(user string, what string, pred func(slacktest.View) bool) slacktest.View {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	v, err := e.slack.WaitView(ctx, func(v slacktest.View) bool {
		return v.User == user && v.Open && v.CallbackID == render.FormCallbackID && (pred == nil || pred(v))
	})
	if err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
	return v
}

// choose sets a picker of the form as the person would; a picker that does
// not dispatch its choice (the cluster's) only changes the form's state.
func (e *e2e) choose(user, viewID, blockID, value string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if blockID == render.FormPackage {
		// An external_select offers what its last search found.
		if _, err := e.slack.SendBlockSuggestion(ctx, user, viewID, blockID, value); err != nil {
			e.t.Fatalf("search packages for %s: %v", value, err)
		}
	}
	if _, err := e.slack.SendViewAction(ctx, user, viewID, blockID, blockID, value); err != nil && !errors.Is(err, slacktest.ErrNotDispatched) {
		e.t.Fatalf("choose %s=%s: %v", blockID, value, err)
	}
}

func (e *e2e) submit(user, viewID string) slacktest.Submission {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	sub, err := e.slack.SubmitView(ctx, user, viewID)
	if err != nil {
		e.t.Fatalf("submit the form: %v", err)
	}
	return sub
}

func TestE2EFormFromOpenToCard(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "")
	v := e.waitForm("U1", "the form", nil)

	// The pickers: clusters that can take a job first, labelled with their
	// status, the terminated one left out; packages as one types.
	cl, ok := v.Element(render.FormCluster, render.FormCluster)
	if !ok || cl.Type != "static_select" || len(cl.Options) != 3 || cl.Options[0].Text != "prod-etl (52) · available" ||
		cl.Options[0].Value != "52" {
		t.Fatalf("cluster picker %+v", cl)
	}
	for _, o := range cl.Options {
		if o.Value == "48" {
			t.Errorf("the terminated cluster is offered: %+v", cl.Options)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	opts, err := e.slack.SendBlockSuggestion(ctx, "U1", v.ID, render.FormPackage, "ORD")
	if err != nil {
		t.Fatal(err)
	}
	if len(opts) != 2 || opts[0].Text != "orders_backfill (435)" || opts[1].Value != "434" {
		t.Errorf("packages for ORD: %+v", opts)
	}
	if opts, err := e.slack.SendBlockSuggestion(ctx, "U1", v.ID, render.FormPackage, "legacy"); err != nil || len(opts) != 0 {
		t.Errorf("an archived package is offered: %+v %v", opts, err)
	}

	// Choosing the package fills in its declared variables.
	e.choose("U1", v.ID, render.FormPackage, "434")
	v = e.waitForm("U1", "the variables filled in", func(v slacktest.View) bool {
		el, _ := v.Element(render.FormVariables, render.FormVariables)
		return strings.Contains(el.InitialValue, "DATE=2026-11-01")
	})
	el, _ := v.Element(render.FormVariables, render.FormVariables)
	if el.InitialValue != "DATE=2026-11-01\nFULL_REFRESH=false\nREGION=eu" {
		t.Errorf("variables = %q", el.InitialValue)
	}

	// A bad line is shown on the variables block, and nothing starts.
	e.choose("U1", v.ID, render.FormCluster, "52")
	if err := e.slack.SetViewInput(v.ID, render.FormVariables, render.FormVariables, "DATE=2026-11-02\nMSG=hello world"); err != nil {
		t.Fatal(err)
	}
	sub := e.submit("U1", v.ID)
	if sub.Closed || !strings.Contains(sub.Errors[render.FormVariables], "line 2: one variable a line") {
		t.Fatalf("submission %+v, want an error on line 2", sub)
	}
	if n := e.runs(); n != 0 {
		t.Fatalf("%d runs before the form was valid", n)
	}

	if err := e.slack.SetViewInput(v.ID, render.FormVariables, render.FormVariables, "DATE=2026-11-02\nMSG=\"hello world\"\nNOW:=CurrentTime()"); err != nil {
		t.Fatal(err)
	}
	if sub := e.submit("U1", v.ID); !sub.Closed || len(sub.Errors) != 0 {
		t.Fatalf("submission %+v, want the form closed", sub)
	}
	c := e.waitCard(1001, "idle")
	if c.Channel != "C1" || !strings.Contains(c.Text, "orders_daily") || !strings.Contains(c.Text, "prod-etl") {
		t.Errorf("card %+v", c)
	}
	j, _ := e.xp.Job(1001)
	if j.PackageID != 434 || j.ClusterID != 52 || j.Variables["DATE"] != "2026-11-02" || j.Variables["MSG"] != "hello world" ||
		j.DynamicVariables["NOW"] != "CurrentTime()" {
		t.Errorf("Xplenty ran %+v", j)
	}
}

func TestE2EFormRefusesATerminatedCluster(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "form")
	v := e.waitForm("U1", "the form", nil)
	e.choose("U1", v.ID, render.FormPackage, "434")
	v = e.waitForm("U1", "the update", func(v slacktest.View) bool { return v.Updates > 0 })
	// The cluster was usable when the form opened; it is not any more.
	if err := e.xp.SetClusterStatus(53, xplenty.ClusterTerminated); err != nil {
		t.Fatal(err)
	}
	e.choose("U1", v.ID, render.FormCluster, "53")
	// Another replica refreshes the list and sees it terminated.
	key := e.cfg.RedisPrefix + "catalog:clusters"
	list, err := e.rdb.Get(context.Background(), key).Result()
	if err != nil || !strings.Contains(list, `"status":"idle"`) {
		t.Fatalf("the cached clusters %q, %v", list, err)
	}
	if err := e.rdb.Set(context.Background(), key, strings.Replace(list, `"status":"idle"`, `"status":"terminated"`, 1), redis.KeepTTL).Err(); err != nil {
		t.Fatal(err)
	}
	sub := e.submit("U1", v.ID)
	if sub.Closed || !strings.Contains(sub.Errors[render.FormCluster], "prod-etl-large (53) is terminated") ||
		!strings.Contains(sub.Errors[render.FormCluster], "prod-etl (52, available)") {
		t.Fatalf("submission %+v, want the cluster refused with the available ones", sub)
	}
	if n := e.runs(); n != 0 {
		t.Errorf("%d runs on a terminated cluster", n)
	}
}

func TestE2EFormDoubleSubmitStartsOneJob(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.startBot() // two replicas: each may get one of the two submissions
	e.command("U1", "C1", "")
	v := e.waitForm("U1", "the form", nil)
	e.choose("U1", v.ID, render.FormPackage, "512")
	v = e.waitForm("U1", "the update", func(v slacktest.View) bool { return v.Updates > 0 })
	e.choose("U1", v.ID, render.FormCluster, "60")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	subs, err := e.slack.SubmitViewTwice(ctx, "U1", v.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if len(s.Errors) != 0 {
			t.Errorf("submission %+v", s)
		}
	}
	e.waitCard(1001, "")
	e.settle()
	if n := e.runs(); n != 1 {
		t.Errorf("%d run requests for one form submitted twice, want 1", n)
	}
}

func TestE2EEditAndRerunKeepsTheSecret(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434 DATE=2026-11-01 DB_PASSWORD="+secretValue)
	e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusCompleted)
	old := e.waitCard(1001, "completed")
	if !strings.Contains(blocks(old), render.ActionEdit) {
		t.Fatalf("the finished card has no Edit & re-run: %s", blocks(old))
	}
	e.click("U1", old, render.ActionEdit)
	v := e.waitForm("U1", "the form filled in", nil)
	el, _ := v.Element(render.FormVariables, render.FormVariables)
	if el.InitialValue != "DATE=2026-11-01\nDB_PASSWORD="+render.Mask {
		t.Fatalf("variables = %q, want the secret masked", el.InitialValue)
	}
	if p, _ := v.Element(render.FormPackage, render.FormPackage); p.InitialOption == nil || p.InitialOption.Value != "434" {
		t.Errorf("package picker %+v, want 434 chosen", p)
	}
	if c, _ := v.Element(render.FormCluster, render.FormCluster); c.InitialOption == nil || c.InitialOption.Value != "52" {
		t.Errorf("cluster picker %+v, want 52 chosen", c)
	}
	if err := e.slack.SetViewInput(v.ID, render.FormVariables, render.FormVariables, "DATE=2026-11-02\nDB_PASSWORD="+render.Mask); err != nil {
		t.Fatal(err)
	}
	if sub := e.submit("U1", v.ID); !sub.Closed {
		t.Fatalf("submission %+v", sub)
	}
	c := e.waitCard(1002, "idle")
	j, _ := e.xp.Job(1002)
	if j.Variables["DATE"] != "2026-11-02" || j.Variables["DB_PASSWORD"] != secretValue {
		t.Errorf("Xplenty ran DATE=%q with the secret kept: %v", j.Variables["DATE"], j.Variables["DB_PASSWORD"] == secretValue)
	}
	if !strings.Contains(blocks(c), "1001") {
		t.Errorf("the new card does not link the job it re-runs: %s", blocks(c))
	}
	e.waitReplies(old, 1) // the old thread hears of the re-run
	for _, view := range e.slack.Snapshot().Views() {
		if strings.Contains(string(view.Blocks), secretValue) || strings.Contains(view.PrivateMetadata, secretValue) {
			t.Errorf("the secret went to Slack in view %s", view.ID)
		}
	}
	// checkNoSecrets (at cleanup) looks in every other Slack call.
}

func TestE2ERunByNames(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", `cluster="PROD-ETL" package=orders_d DATE=2026-11-01`)
	c := e.waitCard(1001, "idle")
	if !strings.Contains(c.Text, "orders_daily (434) on prod-etl (52)") {
		t.Errorf("card %q", c.Text)
	}
	e.command("U1", "C1", "cluster=52 package=orders")
	e.waitEphemeral("U1", "matches 2 packages")
	e.command("U1", "C1", "cluster=52 package=ordres_daily")
	e.waitEphemeral("U1", "Did you mean `orders_daily` (434)")
	e.command("U1", "C1", "cluster=old-etl package=434")
	e.waitEphemeral("U1", "Cluster `old-etl` (48) is terminated")
	e.command("U1", "C1", "packages customers")
	e.waitEphemeral("U1", "customers_sync")
	if n := e.runs(); n != 1 {
		t.Errorf("%d runs, want the one by names", n)
	}
}

// A secret value the person typed in the box is not sent back to Slack
// when they then choose a package: the form is left as it is.
func TestE2EFormDoesNotEchoATypedSecret(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "")
	v := e.waitForm("U1", "the form", nil)
	e.choose("U1", v.ID, render.FormPackage, "434")
	v = e.waitForm("U1", "the update", func(v slacktest.View) bool { return v.Updates > 0 })
	if err := e.slack.SetViewInput(v.ID, render.FormVariables, render.FormVariables, "DATE=2026-11-02\nDB_PASSWORD="+secretValue); err != nil {
		t.Fatal(err)
	}
	e.choose("U1", v.ID, render.FormPackage, "435")
	e.settle()
	for _, c := range e.slack.Calls("views.update") {
		if strings.Contains(c.Params.Get("view"), secretValue) {
			t.Errorf("views.update carried the typed secret")
		}
	}
	// The box is as the person left it, and the form runs with it.
	e.choose("U1", v.ID, render.FormCluster, "52")
	if sub := e.submit("U1", v.ID); !sub.Closed {
		t.Fatalf("submission %+v", sub)
	}
	e.waitCard(1001, "")
	if j, _ := e.xp.Job(1001); j.PackageID != 435 || j.Variables["DB_PASSWORD"] != secretValue {
		t.Errorf("Xplenty ran package %d, the secret sent: %v", j.PackageID, j.Variables["DB_PASSWORD"] == secretValue)
	}
}

// A job whose variables do not fit the form's box (3,000 characters; a
// command takes 4,000) is not offered cut: a cut value would be sent as
// cut, or not parse.
func TestE2EEditOfVariablesTooLongForTheForm(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	long := strings.Repeat("x", 900)
	e.command("U1", "C1", "cluster=52 package=434 A="+long+" B="+long+" C="+long+" D="+long)
	e.waitCard(1001, "idle")
	e.setStatus(1001, xplenty.StatusCompleted)
	old := e.waitCard(1001, "completed")
	e.click("U1", old, render.ActionEdit)
	e.wait("a form or an answer", func(s *slacktest.Snapshot) bool {
		return len(s.Views()) > 0 || len(s.Ephemerals("U1")) > 0
	})
	for _, v := range e.slack.Snapshot().Views() {
		t.Errorf("a form was opened: %s", v.ID)
		if sub := e.submit("U1", v.ID); sub.Closed {
			e.waitCard(1002, "")
			if j, _ := e.xp.Job(1002); j.Variables["D"] != long {
				t.Errorf("the edit sent D cut to %d characters", len(j.Variables["D"]))
			}
		} else {
			t.Errorf("the form as opened is refused: %v", sub.Errors)
		}
	}
	e.waitEphemeral("U1", "too long for the form")
}
