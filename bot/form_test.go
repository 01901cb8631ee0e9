package bot

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

func TestFillDefaults(t *testing.T) {
	b := &Bot{secrets: mustSecrets(t)}
	declared := map[string]string{"DATE": "2026-11-01", "HOUR": "CurrentTime()", "REF": "$OTHER", "DB_PASSWORD": "default-pw", "MSG": "a b"}
	for _, tc := range []struct {
		name, text string
		untouched  bool
		want       string
		note       []string
	}{
		{"empty box", "", true, "DATE=2026-11-01\nHOUR:=CurrentTime()\nMSG=\"a b\"\nREF:=$OTHER", []string{"declares DATE, DB_PASSWORD, HOUR, MSG, REF", "not filled in (DB_PASSWORD)"}},
		{"typed lines kept, their names not repeated", "DATE=2030-01-01\nX=1", false,
			"DATE=2030-01-01\nX=1\nHOUR:=CurrentTime()\nMSG=\"a b\"\nREF:=$OTHER", nil},
		{"an untouched box is replaced", "OLD=1", true, "DATE=2026-11-01\nHOUR:=CurrentTime()\nMSG=\"a b\"\nREF:=$OTHER", nil},

		{"a masked secret is", "DB_PASSWORD=" + render.Mask, false, "DB_PASSWORD=" + render.Mask + "\nDATE=2026-11-01\nHOUR:=CurrentTime()\nMSG=\"a b\"\nREF:=$OTHER", nil},
	} {
		got, note, leave := b.fillDefaults(tc.text, tc.untouched, "orders_<b>", declared)
		if leave {
			t.Errorf("%s: the form is left as it is", tc.name)
		}
		if got != tc.want {
			t.Errorf("%s: box %q, want %q", tc.name, got, tc.want)
		}
		if strings.Contains(got, "default-pw") || strings.Contains(note, "default-pw") {
			t.Errorf("%s: a secret default was shown", tc.name)
		}
		if !strings.Contains(note, "orders_&lt;b&gt;") {
			t.Errorf("%s: note %q does not escape the name", tc.name, note)
		}
		for _, n := range tc.note {
			if !strings.Contains(note, n) {
				t.Errorf("%s: note %q, want %q", tc.name, note, n)
			}
		}
	}
	if got, note, _ := b.fillDefaults("A=1", false, "p", nil); got != "A=1" || !strings.Contains(note, "declares no variables") {
		t.Errorf("no declared variables: %q %q", got, note)
	}
	// A typed secret is never sent back: the form is left as it is (a
	// secret typed in a box the bot then replaces is not "typed").
	if _, _, leave := b.fillDefaults("DATE=1\nDB_PASSWORD=hunter2", false, "p", declared); !leave {
		t.Errorf("a typed secret would be sent back")
	}
	if _, _, leave := b.fillDefaults("DB_PASSWORD=hunter2", true, "p", declared); leave {
		t.Errorf("an untouched box is replaced, whatever it holds")
	}
}

// formOf is a submission of the run form in channel, as Slack sends it.
func formOf(channel string, edit int64, pkg, cluster, vars string) FormView {
	return FormView{ID: "V1", Metadata: formMeta{Channel: channel, Edit: edit}.encode(), Package: pkg, Cluster: cluster, Variables: vars}
}

func TestSubmitFormChecksLikeACommand(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{users: []string{"U1"}, channels: []string{"C1"}})
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		user  string
		v     FormView
		block string
		has   string
	}{
		{"nothing picked", "U1", formOf("C1", 0, "", "", ""), render.FormPackage, "Pick a package"},
		{"no cluster", "U1", formOf("C1", 0, "434", "", ""), render.FormCluster, "Pick a cluster"},
		{"bad line", "U1", formOf("C1", 0, "434", "52", "A=1\n2B=x"), render.FormVariables, "line 2:"},
		{"a mask in a new run", "U1", formOf("C1", 0, "434", "52", "DB_PASSWORD="+render.Mask), render.FormVariables, "type its value"},
		{"a terminated cluster", "U1", formOf("C1", 0, "434", "48", ""), render.FormCluster, "old-etl (48) is terminated"},
		{"not on the allowlist", "U2", formOf("C1", 0, "434", "52", ""), render.FormPackage, "not allowed"},
		{"a channel not on the allowlist", "U1", formOf("C2", 0, "434", "52", ""), render.FormPackage, "not allowed"},
		{"a forged form", "U1", FormView{ID: "V1", Metadata: "{}", Package: "434", Cluster: "52"}, render.FormPackage, "out of date"},
		{"an edit of a job not remembered", "U1", formOf("C1", 999, "434", "52", ""), render.FormPackage, "no longer remember job 999"},
	} {
		errs, run := uc.bot.SubmitForm(ctx, uc.req(tc.user, "C1"), tc.v)
		if run != nil || !strings.Contains(errs[tc.block], tc.has) {
			t.Errorf("%s: errors %v (run %v), want %q on %s", tc.name, errs, run != nil, tc.has, tc.block)
		}
	}
	if n := len(uc.xp.Jobs()); n != 0 {
		t.Errorf("%d jobs started by invalid forms", n)
	}
	denied := 0
	for _, e := range uc.audit(t) {
		if e.Action == "deny" && strings.HasPrefix(e.Detail, "form: not in ALLOWED_USERS") {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("%d audit entries for the two forms the allowlist refused, want 2", denied)
	}
}

func TestSubmitFormEditKeepsSecretsOfItsOwnChannelOnly(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	ctx := context.Background()
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434 DATE=1 DB_PASSWORD=hunter2"); got != "started" {
		t.Fatalf("outcome %q", got)
	}
	old := uc.onlyJob(t)
	if err := uc.xp.SetStatus(old.ID, xplenty.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	// A form made for another channel's job (the metadata is the bot's
	// own; this is the check behind it).
	errs, run := uc.bot.SubmitForm(ctx, uc.req("U1", "C2"), formOf("C2", old.ID, "434", "52", "DB_PASSWORD="+render.Mask))
	if run != nil || !strings.Contains(errs[render.FormPackage], "another channel") {
		t.Errorf("edit from C2: %v", errs)
	}
	// A mask for a variable the old job did not have is not a value.
	errs, _ = uc.bot.SubmitForm(ctx, uc.req("U1", "C1"), formOf("C1", old.ID, "434", "52", "API_TOKEN="+render.Mask))
	if !strings.Contains(errs[render.FormVariables], "API_TOKEN has none") {
		t.Errorf("a mask for a new secret: %v", errs)
	}
	// Someone else may not point the secret anywhere, nor may its owner
	// send it to another package.
	errs, _ = uc.bot.SubmitForm(ctx, uc.req("U2", "C1"), formOf("C1", old.ID, "434", "52", "DB_PASSWORD="+render.Mask))
	if !strings.Contains(errs[render.FormVariables], "Only whoever started job") {
		t.Errorf("someone else keeps the secret: %v", errs)
	}
	errs, _ = uc.bot.SubmitForm(ctx, uc.req("U1", "C1"), formOf("C1", old.ID, "435", "52", "DB_PASSWORD="+render.Mask))
	if !strings.Contains(errs[render.FormVariables], "kept only for the package") {
		t.Errorf("the secret goes to another package: %v", errs)
	}
	errs, run = uc.bot.SubmitForm(ctx, uc.req("U1", "C1"), formOf("C1", old.ID, "434", "53", "DATE=2\nDB_PASSWORD="+render.Mask))
	if len(errs) != 0 || run == nil {
		t.Fatalf("a valid edit: %v", errs)
	}
	run(ctx)
	if got := uc.last(); got != "started" {
		t.Fatalf("outcome %q, answer %q", got, uc.answer("U1"))
	}
	jobs := uc.xp.Jobs()
	if len(jobs) != 2 {
		t.Fatalf("%d jobs", len(jobs))
	}
	j := jobs[1]
	if j.PackageID != 434 || j.ClusterID != 53 || j.Variables["DATE"] != "2" || j.Variables["DB_PASSWORD"] != "hunter2" {
		t.Errorf("the edit ran %+v", j)
	}
	rec, err := uc.store.Get(ctx, j.ID)
	if err != nil || rec.RerunOf != old.ID || rec.PackageName != "orders_daily" || rec.ClusterName != "prod-etl-large" {
		t.Errorf("record %+v %v, want a re-run of %d with names", rec.Run, err, old.ID)
	}
	entries := uc.audit(t)
	if last := entries[len(entries)-1]; last.Action != "rerun" || last.Outcome != "started" || strings.Contains(last.Variables, "hunter2") {
		t.Errorf("audit %+v", last)
	}
	// The same view again (Slack redelivered it, or a second click): nothing.
	run(ctx)
	if got := uc.last(); got != "duplicate" || len(uc.xp.Jobs()) != 2 {
		t.Errorf("the view again: outcome %q, %d jobs", got, len(uc.xp.Jobs()))
	}
}

// A kept secret goes only to the package it was typed for: Edit & re-run
// must not let someone in the channel send another person's secret to a
// package of their choosing (one that writes its variables out, say).
func TestSubmitFormEditKeepsSecretsForTheirPackageOnly(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{})
	ctx := context.Background()
	if got := uc.command(t, "U1", "C1", "cluster=52 package=434 DATE=1 DB_PASSWORD=hunter2"); got != "started" {
		t.Fatalf("outcome %q", got)
	}
	old := uc.onlyJob(t)
	if err := uc.xp.SetStatus(old.ID, xplenty.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	for _, vars := range []string{"DB_PASSWORD=" + render.Mask, `DB_PASSWORD="` + render.Mask + `"`} {
		errs, run := uc.bot.SubmitForm(ctx, uc.req("U2", "C1"), formOf("C1", old.ID, "512", "52", vars))
		if run != nil || !strings.Contains(errs[render.FormVariables], "DB_PASSWORD") {
			t.Errorf("%s kept for another package: errors %v", vars, errs)
			if run != nil {
				run(ctx)
			}
		}
	}
	for _, j := range uc.xp.Jobs() {
		if j.ID != old.ID {
			t.Errorf("job %d ran package %d with the old job's secret: %v", j.ID, j.PackageID, j.Variables["DB_PASSWORD"] == "hunter2")
		}
	}
	// A new value typed for the other package is the person's own.
	v := formOf("C1", old.ID, "512", "52", "DB_PASSWORD=mine")
	v.ID = "V2"
	errs, run := uc.bot.SubmitForm(ctx, uc.req("U2", "C1"), v)
	if len(errs) != 0 || run == nil {
		t.Fatalf("a typed secret for another package: %v", errs)
	}
	run(ctx)
	if got := uc.last(); got != "started" {
		t.Errorf("outcome %q", got)
	}
}

func TestFormOptions(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{users: []string{"U1"}, channels: []string{"*"}})
	ctx := context.Background()
	v := formOf("C1", 0, "", "", "")
	opts := uc.bot.FormOptions(ctx, uc.req("U1", ""), v, render.FormPackage, "")
	if len(opts) != 4 || opts[0].Label != "customers_sync (512)" {
		t.Errorf("every package: %+v", opts)
	}
	if opts := uc.bot.FormOptions(ctx, uc.req("U1", ""), v, render.FormPackage, "434"); len(opts) != 1 || opts[0].Value != "434" {
		t.Errorf("by id: %+v", opts)
	}
	if opts := uc.bot.FormOptions(ctx, uc.req("U1", ""), v, render.FormPackage, "sync"); len(opts) != 1 || opts[0].Value != "512" {
		t.Errorf("by a word inside: %+v", opts)
	}
	cl := uc.bot.FormOptions(ctx, uc.req("U1", ""), v, render.FormCluster, "")
	if len(cl) != 3 || cl[0].Label != "prod-etl (52) · available" || cl[2].Label != "prod-etl-large (53) · idle" && cl[1].Label != "prod-etl-large (53) · idle" {
		t.Errorf("clusters: %+v", cl)
	}
	if opts := uc.bot.FormOptions(ctx, uc.req("U2", ""), v, render.FormPackage, ""); len(opts) != 0 {
		t.Errorf("someone not on the allowlist sees %+v", opts)
	}
}

// A submission is acked with its answer, and Slack waits 3 s for it: the
// read of the edited job may not wait on a Redis that does not answer (a
// failover, a partition) any longer than the catalog's reads do.
func TestSubmitFormEditDoesNotWaitOnAHungRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns []net.Conn
	var mu sync.Mutex
	go func() { // accepts, reads, never answers
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true,
		ReadTimeout: -1, WriteTimeout: -1, MaxRetries: -1, Protocol: 2})
	t.Cleanup(func() { rdb.Close() })
	st, err := store.New(rdb, store.Options{SecretKey: []byte("hung key")})
	if err != nil {
		t.Fatal(err)
	}
	uc := newUseCase(t, useCaseOptions{})
	b, err := New(Config{Poster: uc.bot.cfg.Poster, Store: st, Xplenty: uc.bot.cfg.Xplenty, Access: uc.bot.cfg.Access})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan map[string]string, 1)
	go func() {
		errs, _ := b.SubmitForm(context.Background(), uc.req("U1", "C1"), formOf("C1", 1001, "434", "52", "DATE=1"))
		done <- errs
	}()
	select {
	case errs := <-done:
		if !strings.Contains(errs[render.FormPackage], "database") {
			t.Errorf("errors %v, want the database named", errs)
		}
	case <-time.After(20 * time.Second): // a fail-safe, far beyond Slack's 3 s
		t.Fatal("the submission waits on Redis: Slack has long given up on its ack")
	}
}

// With Xplenty out of reach and no list kept, a run by id still goes (as a
// command's does): the pickers offer the id typed, rather than nothing.
func TestFormOptionsOfferATypedIDTheCatalogDoesNotKnow(t *testing.T) {
	uc := newUseCase(t, useCaseOptions{coldCatalog: true})
	uc.xp.Close()
	ctx := context.Background()
	v := formOf("C1", 0, "", "", "")
	for _, block := range []string{render.FormPackage, render.FormCluster} {
		opts := uc.bot.FormOptions(ctx, uc.req("U1", ""), v, block, " 434 ")
		if len(opts) != 1 || opts[0].Value != "434" {
			t.Errorf("%s: options %+v, want the id typed", block, opts)
		}
		if opts := uc.bot.FormOptions(ctx, uc.req("U1", ""), v, block, "orders"); len(opts) != 0 {
			t.Errorf("%s: options %+v for a name, with no list", block, opts)
		}
	}
	errs, run := uc.bot.SubmitForm(ctx, uc.req("U1", "C1"), formOf("C1", 0, "434", "434", ""))
	if len(errs) != 0 || run == nil {
		t.Errorf("a form by ids with Xplenty out of reach: %v", errs)
	}
}
