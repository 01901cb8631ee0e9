package main

import (
	"strings"
	"testing"

	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// A failure with Xplenty's log summary: the reply shows why and what to
// do, with the job's secret masked in them, and the card offers Show log;
// clicked twice (and by someone else), the log is posted once, scrubbed.
func TestE2EFailureWithLogSummaryAndShowLog(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434 DB_PASSWORD="+secretValue)
	c := e.waitCard(1001, "idle")
	if err := e.xp.SetLogSummary(1001, xplenty.LogSummary{
		ErrorSummary: "Login to orders-db failed with password " + secretValue,
		ActionItems:  []string{"Check the database credentials.", "Retry the job."},
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.xp.SetLog(1001, "reading orders\nERROR: login as loader/"+secretValue+" refused\n"); err != nil {
		t.Fatal(err)
	}
	e.setStatus(1001, xplenty.StatusFailed)
	r := e.waitReplies(c, 1)[0]
	for _, want := range []string{"Why:", "Login to orders-db failed", "What to do:", "Check the database credentials.", "Retry the job."} {
		if !strings.Contains(blocks(r), want) {
			t.Errorf("failure reply lacks %q: %s", want, r.Blocks)
		}
	}
	failed := e.waitCard(1001, "failed")
	if !strings.Contains(string(failed.Blocks), render.ActionLog) {
		t.Fatalf("failed card has no Show log button: %s", failed.Blocks)
	}
	e.click("U1", failed, render.ActionLog)
	e.click("U1", failed, render.ActionLog)
	e.click("U2", failed, render.ActionLog)
	e.waitReplies(c, 2)
	e.waitAudit("log", "posted")
	e.settle()
	logs := e.slack.ThreadReplies(c.Channel, c.TS)
	if len(logs) != 2 {
		t.Fatalf("%d thread messages, want the reply and one log:\n%s", len(logs), dump(logs))
	}
	if !strings.Contains(blocks(logs[1]), "ERROR: login as loader/") {
		t.Errorf("log post lacks the log: %s", logs[1].Blocks)
	}
	e.waitEphemeral("U2", "posted in its thread a moment ago")
	e.checkNoSecrets()
}

// A failure without a log summary (older API, or none written yet) gets
// the reply it always had: Xplenty's error text, no Why section.
func TestE2EFailureWithoutLogSummary(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	c := e.waitCard(1001, "idle")
	if err := e.xp.SetErrors(1001, "Failed to read from source 'orders'"); err != nil {
		t.Fatal(err)
	}
	e.setStatus(1001, xplenty.StatusFailed)
	r := e.waitReplies(c, 1)[0]
	if !strings.Contains(blocks(r), "Failed to read from source") || strings.Contains(blocks(r), "Why:") {
		t.Errorf("failure reply = %s, want Xplenty's error text and no Why section", r.Blocks)
	}
	var summaryCalls int
	for _, q := range e.xp.Requests() {
		if q.Query.Get("include") == "log_summary" {
			summaryCalls++
		}
	}
	if summaryCalls != 1 {
		t.Errorf("%d log summary requests, want 1", summaryCalls)
	}
}

// The failure reply says how the package fared before, from the bot's own
// records: "2nd failure in a row; last success …, job 1001".
func TestE2EFailureStreak(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	for i, st := range []xplenty.Status{xplenty.StatusCompleted, xplenty.StatusFailed, xplenty.StatusFailed} {
		id := int64(1001 + i)
		e.command("U1", "C1", "cluster=52 package=434")
		c := e.waitCard(id, "idle")
		e.setStatus(id, st)
		r := e.waitReplies(c, 1)[0]
		switch i {
		case 1:
			if strings.Contains(blocks(r), "in a row") {
				t.Errorf("first failure after a success says %s", r.Blocks)
			}
		case 2:
			if !strings.Contains(blocks(r), "2nd failure in a row; last success") || !strings.Contains(blocks(r), "job 1001") {
				t.Errorf("second failure in a row: %s, want the streak and the last success, job 1001", r.Blocks)
			}
		}
	}
}
