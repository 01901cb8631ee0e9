package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
)

// The run form (a modal): /runjob with no arguments or /runjob form opens
// it empty, Edit & re-run opens it filled in with a finished job's run.
// Choosing a package fills in its declared variables; the picker's options
// come from the catalog as the person types (formoptions.go); a submission
// is checked like a command and, when valid, goes the command's way
// (formsubmit.go).

// formCatalogWait bounds the reads of the form (the catalog; the edited job,
// for a submission): Slack takes a trigger_id for 3 s, and options and
// submissions must be acked within 3 s.
const formCatalogWait = 1500 * time.Millisecond

// FormView is the run form as Slack sends it with a choice, a search or a
// submission.
type FormView struct {
	ID, Hash string
	// Metadata is the view's private_metadata, as the bot wrote it.
	Metadata string
	// Package and Cluster are the values of the options chosen ("" when
	// none is); Variables is the text of the variables box.
	Package, Cluster, Variables string
}

// formMeta is what the bot keeps in a form's private_metadata: Slack keeps
// it with the view and gives it back, and the person cannot change it.
type formMeta struct {
	// Channel is where the run goes: where /runjob was typed, or the
	// edited job's channel.
	Channel string `json:"channel"`
	// Edit is the job Edit & re-run started from, 0 for a new run.
	Edit int64 `json:"edit,omitempty"`
	// Filled is a digest of the variables text the bot last wrote in the
	// box, so that a box the person did not touch is replaced, not merged,
	// when they choose another package.
	Filled string `json:"filled,omitempty"`
}

func (m formMeta) encode() string {
	b, _ := json.Marshal(m) // strings and an int: cannot fail
	return string(b)
}

func decodeMeta(s string) (formMeta, bool) {
	var m formMeta
	if json.Unmarshal([]byte(s), &m) != nil || m.Channel == "" {
		return formMeta{}, false
	}
	return m, true
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// formAct is the act of opening the run form, empty, for a new run here.
func (b *Bot) formAct() act {
	return act{do: func(ctx context.Context, req Request, _ string) result {
		return b.openForm(ctx, req, formMeta{Channel: req.ChannelID}, nil)
	}}
}

// editAct is the act of opening the run form filled in with a finished
// job's run (Edit & re-run). The job must be this channel's; the run is
// judged when the form is submitted.
func (b *Bot) editAct(ctx context.Context, req Request, id int64) (act, result) {
	rec, res := b.tracked(ctx, req, id, "edit and re-run")
	if res.outcome != proceed {
		return act{}, res
	}
	if len(rec.LostSecrets) > 0 {
		return act{}, end(Invalid).say(fmt.Sprintf("I can no longer read the secret values of job %d (%s): the key they were encrypted with has changed. Start the job again with `/runjob`.",
			id, render.Escape(strings.Join(rec.LostSecrets, ", "))))
	}
	// A box cut to fit would send a cut value, or one that no longer
	// parses: a command takes longer variables than the form's box.
	if n := utf8.RuneCountInString(editLines(rec)); n > commands.MaxFormTextLen {
		return act{}, end(Invalid).say(fmt.Sprintf("The variables of job %d are too long for the form (%d characters; its box takes %d). Re-run it as it was, or type the run with `/runjob`.",
			id, n, commands.MaxFormTextLen))
	}
	return act{do: func(ctx context.Context, req Request, _ string) result {
		return b.openForm(ctx, req, formMeta{Channel: req.ChannelID, Edit: id}, &rec)
	}}, end(proceed)
}

// editLines is the variables box of a form that edits rec's run: its
// variables, secret values masked.
func editLines(rec job.Record) string {
	return commands.VariableLines(rec.Variables, rec.DynamicVariables,
		func(name string) bool { return isSecretOf(rec.Run, name) }, render.Mask)
}

// openForm opens the form with the trigger of the person's command or
// click, filled in with rec's run when rec is set.
func (b *Bot) openForm(ctx context.Context, req Request, meta formMeta, rec *job.Record) result {
	if req.TriggerID == "" {
		return end(Help).say("The form needs Slack's trigger, which this request did not carry. Type the run instead:\n" + commands.Usage())
	}
	cctx, cancel := context.WithTimeout(ctx, formCatalogWait)
	f := render.Form{EditOf: meta.Edit}
	f.Clusters = b.clusterChoices(cctx)
	if rec != nil {
		p := render.IDOption(rec.PackageID, rec.PackageName, "")
		f.Package = &p
		f.Clusters, f.Cluster = choose(f.Clusters, render.IDOption(rec.ClusterID, rec.ClusterName, ""))
		f.Variables = editLines(*rec)
		meta.Filled = digest(f.Variables)
	}
	cancel()
	f.Metadata = meta.encode()
	if _, err := b.cfg.Poster.OpenView(ctx, req.TriggerID, render.FormView(f)); err != nil {
		b.log.Warn("open the run form", "user", req.UserID, "err", err)
		return end(Error).say("I could not open the form, so nothing was done. Type the run instead, like `/runjob cluster=52 package=434 DATE=2026-11-01`, or try again.")
	}
	return end(FormOpened)
}

// choose makes o the choice of a picker with opts: a static picker's
// choice must be one of its options, as they are labelled there, so o is
// found among them by its value, or added to them.
func choose(opts []render.Option, o render.Option) ([]render.Option, *render.Option) {
	if opts == nil {
		return nil, &o // a picker that searches
	}
	for i := range opts {
		if opts[i].Value == o.Value {
			return opts, &opts[i]
		}
	}
	opts = append(opts, o)
	return opts, &opts[len(opts)-1]
}

// isSecretOf reports whether a variable of r is secret.
func isSecretOf(r commands.Run, name string) bool {
	for _, n := range r.SecretNames {
		if n == name {
			return true
		}
	}
	return false
}

// FormPackageChosen answers the choice of a package in the run form: the
// form is updated with the package's declared variables and their
// defaults, added to the lines the person typed (or replacing the box when
// they typed nothing in it since the bot last filled it).
func (b *Bot) FormPackageChosen(ctx context.Context, req Request, v FormView) {
	meta, ok := decodeMeta(v.Metadata)
	if !ok {
		b.log.Warn("run form without its metadata", "user", req.UserID, "view", v.ID)
		return
	}
	req.ChannelID = meta.Channel
	if !b.cfg.Access.Allowed(req.UserID, req.ChannelID) {
		return
	}
	id, err := strconv.ParseInt(v.Package, 10, 64)
	if err != nil || id <= 0 || b.cfg.Catalog == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, formCatalogWait)
	defer cancel()
	pkg, ok := b.cfg.Catalog.Package(cctx, id)
	if !ok {
		return
	}
	f := render.Form{EditOf: meta.Edit, Variables: v.Variables}
	p := render.IDOption(pkg.ID, pkg.Name, "")
	f.Package = &p
	f.Clusters = b.clusterChoices(cctx)
	if cid, err := strconv.ParseInt(v.Cluster, 10, 64); err == nil && cid > 0 {
		name := ""
		if c, ok := b.cfg.Catalog.Cluster(cctx, cid); ok {
			name = c.Name
		}
		f.Clusters, f.Cluster = choose(f.Clusters, render.IDOption(cid, name, ""))
	}
	untouched := v.Variables == "" || digest(v.Variables) == meta.Filled
	text, note, leave := b.fillDefaults(v.Variables, untouched, pkg.Name, pkg.Variables)
	if leave {
		b.log.Info("run form left as typed: its box holds a secret value", "user", req.UserID, "view", v.ID)
		return
	}
	f.Variables, f.Note = text, note
	meta.Filled = digest(text)
	f.Metadata = meta.encode()
	if err := b.cfg.Poster.UpdateView(ctx, v.ID, v.Hash, render.FormView(f)); err != nil {
		// hash_conflict: the person changed the form meanwhile; their
		// later choice brings its own update.
		b.log.Info("update the run form", "user", req.UserID, "err", err)
	}
}
