package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
)

// SubmitForm checks a submission of the run form as a command is checked
// (the allowlist, the grammar, the names and the cluster's status), without
// starting anything; only a refusal by the allowlist is recorded in the
// audit trail, as for a command. When something is wrong it returns the
// errors to show on the form's blocks, by block id. Otherwise it returns
// no errors and the run: a function to call once the submission is acked
// (the modal closes), which takes the run the command's way, from the
// event's claim (one job per view, whatever Slack redelivers or the person
// double-clicks) through the policy and the confirmation to the card in
// the form's channel.
func (b *Bot) SubmitForm(ctx context.Context, req Request, v FormView) (map[string]string, func(context.Context)) {
	meta, ok := decodeMeta(v.Metadata)
	if !ok {
		b.log.Warn("run form without its metadata", "user", req.UserID, "view", v.ID)
		return map[string]string{render.FormPackage: "This form is out of date. Close it and type /runjob again."}, nil
	}
	req.ChannelID = meta.Channel
	req.EventKey = "view:" + v.ID
	// The checks read Redis and the catalog before the ack, which Slack
	// waits 3 s for: one bound for them all.
	cctx, cancel := context.WithTimeout(ctx, formCatalogWait)
	defer cancel()
	if !b.cfg.Access.Allowed(req.UserID, req.ChannelID) {
		// Recorded as a refused command is: in the trail, then answered.
		b.log.Warn("denied by the allowlist", "user", req.UserID, "channel", req.ChannelID, "what", "form")
		b.audit(cctx, req, auditNote{action: "deny", outcome: "denied", detail: "form: not in ALLOWED_USERS / ALLOWED_CHANNELS"})
		return map[string]string{render.FormPackage: "You are not allowed to run jobs there. Ask an admin to add you (or the channel) to the bot's allowlist."}, nil
	}
	errs := map[string]string{}
	r := commands.Run{}
	if id, err := strconv.ParseInt(v.Package, 10, 64); err != nil || id <= 0 {
		errs[render.FormPackage] = "Pick a package."
	} else {
		r.PackageID = id
	}
	if id, err := strconv.ParseInt(v.Cluster, 10, 64); err != nil || id <= 0 {
		errs[render.FormCluster] = "Pick a cluster."
	} else {
		r.ClusterID = id
	}
	vars, dyn, err := commands.ParseVariables(v.Variables)
	if err != nil {
		errs[render.FormVariables] = plainText(b.parseErrorText(err))
	}
	r.Variables, r.DynamicVariables = vars, dyn
	verb := "run"
	if meta.Edit != 0 && err == nil {
		old, why := b.edited(cctx, meta)
		if why != "" {
			errs[render.FormPackage] = why
		} else {
			verb = "rerun"
			r.RerunOf = old.JobID
			r.SecretNames = old.SecretNames
			if why := keepSecrets(&r, old, req.UserID); why != "" {
				errs[render.FormVariables] = why
			}
		}
	} else if err == nil {
		if why := keepSecrets(&r, job.Record{}, req.UserID); why != "" {
			errs[render.FormVariables] = why
		}
	}
	if len(errs) > 0 {
		return errs, nil
	}
	r, res := b.resolveTargets(cctx, r)
	if res.outcome != proceed {
		text := "This cluster cannot take a job."
		if res.answer != nil {
			text = plainText(res.answer.Text)
		}
		return map[string]string{render.FormCluster: text}, nil
	}
	return nil, func(ctx context.Context) {
		o := b.handle(ctx, req, "form", func(context.Context) (act, result) {
			return b.runAct(r, verb), end(proceed)
		})
		b.cfg.OnCommand("form", o)
	}
}

// edited reads the job an Edit & re-run form started from; why says what
// keeps it from being re-run, "" when nothing does.
func (b *Bot) edited(ctx context.Context, meta formMeta) (job.Record, string) {
	rec, err := b.cfg.Store.Get(ctx, meta.Edit)
	switch {
	case errors.Is(err, store.ErrNotTracked):
		return rec, fmt.Sprintf("I no longer remember job %d. Close this form and type /runjob to start a run.", meta.Edit)
	case err != nil:
		b.log.Error("read job for edit", "job_id", meta.Edit, "err", err)
		return rec, "I could not reach my database. Please submit again in a minute."
	case rec.Channel != meta.Channel:
		return rec, fmt.Sprintf("Job %d was started in another channel.", meta.Edit)
	case len(rec.LostSecrets) > 0:
		return rec, fmt.Sprintf("I can no longer read the secret values of job %d (%s). Close this form and type /runjob.",
			meta.Edit, strings.Join(rec.LostSecrets, ", "))
	}
	return rec, ""
}

// keepSecrets puts back the values of old's secret variables that the form
// shows masked and the person left so. A masked value that stands for no
// value of old (another name, a variable moved between the two kinds, a
// new run) is refused: the mask is not a value to send. So is one in a
// form that would send the value somewhere its owner did not: to another
// package, or for someone else than who started old (they may re-run the
// job as it was, with Re-run, but not point its secrets elsewhere).
func keepSecrets(r *commands.Run, old job.Record, user string) string {
	var kept []string
	for _, kind := range []struct {
		now, was map[string]string
	}{{r.Variables, old.Variables}, {r.DynamicVariables, old.DynamicVariables}} {
		for name, v := range kind.now {
			if v != render.Mask {
				continue
			}
			was, ok := kind.was[name]
			if !ok || !isSecretOf(old.Run, name) {
				return fmt.Sprintf("%s stands for a secret value kept from the job you edit, and %s has none: type its value.", render.Mask, name)
			}
			kept = append(kept, name)
			kind.now[name] = was
		}
	}
	if len(kept) == 0 {
		return ""
	}
	slices.Sort(kept)
	switch {
	case old.Requester != user:
		return fmt.Sprintf("Only whoever started job %d can keep its secret values: type the values of %s.", old.JobID, strings.Join(kept, ", "))
	case r.PackageID != old.PackageID:
		return fmt.Sprintf("Secret values are kept only for the package job %d ran: type the values of %s, or pick that package again.", old.JobID, strings.Join(kept, ", "))
	}
	return ""
}

// plainText turns an answer in mrkdwn into the plain text of a form error:
// no code spans, entities undone (Slack shows the text as it is).
func plainText(s string) string {
	s = strings.ReplaceAll(s, "`", "")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
