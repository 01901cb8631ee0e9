package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// listSize is how many jobs `/runjob list` shows.
const listSize = 10

// runAct is the act of starting r: judged by the policy, confirmed first
// when its target is protected, then launched.
func (b *Bot) runAct(r commands.Run, verb string) act {
	r.SecretNames = b.secretNames(r)
	return act{verb: verb, run: &r, confirmable: true,
		do: func(ctx context.Context, req Request, rule string) result {
			detail := ""
			if rule != "" {
				detail = "allowed by rule " + rule
			}
			return b.launch(ctx, req, r, verb, detail)
		}}
}

// rerunAct is the act of starting a tracked job again with the parameters
// kept in Redis (never those shown in the message, which anyone could have
// edited or which mask secrets).
func (b *Bot) rerunAct(ctx context.Context, req Request, id int64) (act, result) {
	old, res := b.tracked(ctx, req, id, "re-run")
	if res.outcome != proceed {
		return act{}, res
	}
	if len(old.LostSecrets) > 0 {
		return act{}, end(Invalid).say(fmt.Sprintf("I can no longer read the secret values of job %d (%s): the key they were encrypted with has changed. Start the job again with `/runjob`.",
			id, render.Escape(strings.Join(old.LostSecrets, ", "))))
	}
	r, res := b.resolveTargets(ctx, b.recorded(ctx, old))
	if res.outcome != proceed {
		return act{}, res
	}
	// A double click within clickDedupe starts one job; a click that
	// started nothing (denied, refused) does not block the next one.
	key := "rerun:" + strconv.FormatInt(id, 10)
	if first, err := b.cfg.Store.Claim(ctx, key, clickDedupe); err == nil && !first {
		return act{}, end(Duplicate).say(fmt.Sprintf("Job %d was re-run a moment ago; I did not start it twice.", id))
	}
	r.RerunOf = old.JobID
	a := b.runAct(r, "rerun")
	a.claim = key
	return a, end(proceed)
}

// stopAct is the act of asking Xplenty to stop a tracked job; whoever may
// run a job may stop it. The thread reply follows when Xplenty reports it
// stopped.
func (b *Bot) stopAct(ctx context.Context, req Request, id int64) (act, result) {
	rec, res := b.tracked(ctx, req, id, "stop")
	if res.outcome != proceed {
		return act{}, res
	}
	if rec.Terminal() {
		return act{}, end(Invalid).say(fmt.Sprintf("Job %d has already ended (%s).", id, rec.Status))
	}
	r := b.recorded(ctx, rec)
	return act{verb: "stop", run: &r, jobID: id, namedInDenial: true,
		do: func(ctx context.Context, req Request, _ string) result {
			return b.stop(ctx, req, id, r)
		}}, end(proceed)
}

func (b *Bot) stop(ctx context.Context, req Request, id int64, r commands.Run) result {
	key := "stop:" + strconv.FormatInt(id, 10)
	if first, err := b.cfg.Store.Claim(ctx, key, clickDedupe); err == nil && !first {
		return end(Duplicate).say(fmt.Sprintf("Job %d is already being stopped.", id))
	}
	j, err := b.cfg.Xplenty.StopJob(ctx, id)
	if err != nil {
		b.release(ctx, key)
		// err's text never holds what Xplenty said (ErrorResponse.Error);
		// the reason, which does, is scrubbed first.
		reason := reasonText(r, err)
		b.log.Warn("stop job", "job_id", id, "err", err, "reason", reason)
		return end(Refused).audit(auditNote{action: "stop", run: r, jobID: id, outcome: "refused", detail: reason}).
			say(fmt.Sprintf("Xplenty did not stop job %d: %s", id, render.Escape(reason)))
	}
	if err := b.cfg.Store.RequestStop(ctx, id, req.UserID); err != nil && !errors.Is(err, store.ErrFinished) {
		b.log.Warn("record stop request", "job_id", id, "err", err)
	}
	if _, err := b.cfg.Store.Observe(ctx, *j); err != nil {
		b.log.Warn("record stopping status", "job_id", id, "err", err)
	}
	b.log.Info("stop requested", "job_id", id, "user", req.UserID)
	return end(Stopped).audit(auditNote{action: "stop", run: r, jobID: id, outcome: "stopping"})
}

// tracked reads the record of a job to re-run or stop; when there is none,
// or the job belongs to another channel, it answers the user and returns
// the outcome that ends the handling.
func (b *Bot) tracked(ctx context.Context, req Request, id int64, verb string) (job.Record, result) {
	rec, err := b.cfg.Store.Get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotTracked):
		return rec, end(Invalid).say(fmt.Sprintf("I have no record of job %d: it was not started from Slack, or it ended long enough ago to be forgotten. I can only %s jobs I started and remember.", id, verb))
	case err != nil:
		b.log.Error("read job", "job_id", id, "for", verb, "err", err)
		return rec, end(Error).say("I could not reach my database, so nothing was done. Please try again in a minute.")
	case rec.Channel != req.ChannelID:
		// A job is acted on only where it was started: the allowlist and the
		// policy were asked about this channel, and a re-run from elsewhere
		// would send the requester's secret values for someone they never
		// shared them with. The answer says nothing else about the job (it
		// may belong to a private channel).
		b.log.Warn("job of another channel", "job_id", id, "for", verb, "user", req.UserID, "channel", req.ChannelID, "job_channel", rec.Channel)
		return rec, end(Denied).audit(auditNote{action: "deny", jobID: id, outcome: "denied",
			detail: verb + ": the job was started in channel " + rec.Channel}).
			say(fmt.Sprintf("Job %d was started in another channel.", id))
	}
	return rec, end(proceed)
}

// status answers `/runjob status <id>`. It is judged here rather than by
// the pipeline's policy step: a job is judged where it lives.
func (b *Bot) status(ctx context.Context, req Request, id int64) result {
	rec, err := b.cfg.Store.Get(ctx, id)
	if err == nil {
		// A job started in another (maybe private) channel is shown only to
		// someone the allowlist and the policy let run it there, in its
		// channel: being allowed the same package here is not enough.
		there := req
		there.ChannelID = rec.Channel
		if rec.Channel != req.ChannelID && (!b.cfg.Access.Allowed(req.UserID, rec.Channel) ||
			!b.decide(ctx, there, b.recorded(ctx, rec)).Allowed) {
			return end(Denied).say(fmt.Sprintf("Job %d is not one you may see here.", id))
		}
		return end(Status).say(statusLine(rec))
	}
	if !errors.Is(err, store.ErrNotTracked) {
		b.log.Warn("read job for status", "job_id", id, "err", err)
	}
	// Not started from Slack: ask Xplenty, and show it only to someone the
	// policy lets run that package on that cluster.
	j, jerr := b.cfg.Xplenty.GetJob(ctx, id)
	if jerr != nil {
		return end(Invalid).say(fmt.Sprintf("I could not find job %d: %s", id, render.Escape(reasonText(commands.Run{}, jerr))))
	}
	run := commands.Run{ClusterID: j.ClusterID, PackageID: j.PackageID}
	if d := b.decide(ctx, req, run); !d.Allowed {
		return end(Denied).say(fmt.Sprintf("Job %d is not one you may see here.", id))
	}
	return end(Status).say(statusLine(job.Record{
		JobID: j.ID, Run: run, Status: j.Status, Progress: j.Progress, HTMLURL: j.HTMLURL, Errors: j.Errors,
	}))
}

// list answers `/runjob list`.
func (b *Bot) list(ctx context.Context, req Request, _ string) result {
	recs, err := b.cfg.Store.Recent(ctx, req.ChannelID, listSize)
	if err != nil {
		b.log.Warn("list jobs", "err", err)
		return end(Error).say("I could not reach my database. Please try again in a minute.")
	}
	if len(recs) == 0 {
		return end(List).say("No jobs were started from this channel yet. Start one with `/runjob cluster=52 package=434`.")
	}
	var sb strings.Builder
	if len(recs) == 1 {
		sb.WriteString("*The last job started from this channel:*\n")
	} else {
		fmt.Fprintf(&sb, "*The last %d jobs started from this channel:*\n", len(recs))
	}
	for _, r := range recs {
		sb.WriteString("• ")
		sb.WriteString(statusLine(r))
		sb.WriteString("\n")
	}
	return end(List).say(sb.String())
}

// help answers with the usage text and the presets the asking user may run.
func (b *Bot) help(ctx context.Context, req Request, _ string) result {
	text := commands.Usage()
	if presets := b.cfg.Policy.PresetsFor(b.subject(ctx, req)); len(presets) > 0 {
		var sb strings.Builder
		sb.WriteString(text)
		sb.WriteString("\n\n*Presets you may run here:*\n")
		for _, p := range presets {
			fmt.Fprintf(&sb, "• `%s` – %s (%s)\n", render.Escape(p.Name), render.Escape(p.Description),
				render.Target(commands.Run{PackageID: p.PackageID, ClusterID: p.ClusterID, PackageName: p.PackageName, ClusterName: p.ClusterName}))
		}
		text = sb.String()
	}
	return end(Help).say(text)
}

// statusLine is one line about a job, for status and list answers.
func statusLine(r job.Record) string {
	s := fmt.Sprintf("%s Job %d: *%s*", render.StatusEmoji(r.Status), r.JobID, render.StatusText(r.Status))
	if r.Status == xplenty.StatusRunning {
		s += " " + render.ProgressBar(r.Progress)
	}
	s += " · " + render.Target(r.Run)
	if r.Requester != "" {
		s += fmt.Sprintf(" · started by <@%s>", r.Requester)
	}
	if !r.CreatedAt.IsZero() {
		s += fmt.Sprintf(" <!date^%d^{date_short_pretty} {time}|%s>", r.CreatedAt.Unix(), r.CreatedAt.UTC().Format(time.RFC3339))
	}
	if link := render.Link(r.HTMLURL, "open"); link != "" {
		s += " · " + link
	}
	return s
}

// release gives a click claim back when the click did nothing.
func (b *Bot) release(ctx context.Context, key string) {
	if err := b.cfg.Store.Release(context.WithoutCancel(ctx), key); err != nil {
		b.log.Warn("release click claim", "key", key, "err", err)
	}
}
