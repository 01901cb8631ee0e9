package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// launch starts the job of an allowed run, links a re-run from the old
// job's thread, and returns what the audit trail records.
func (b *Bot) launch(ctx context.Context, req Request, r commands.Run, verb, detail string) result {
	id, o := b.start(ctx, req, r)
	if id != 0 && r.RerunOf != 0 {
		b.noteRerun(ctx, req, r.RerunOf, id)
	}
	return end(o).audit(auditNote{action: verb, run: r, jobID: id, outcome: o.String(), detail: detail})
}

// start runs a job: post the card first (a job nobody can follow is worse
// than none), remember the launch, ask Xplenty once, then track the job and
// fill the card.
func (b *Bot) start(ctx context.Context, req Request, r commands.Run) (int64, Outcome) {
	log := b.log.With("user", req.UserID, "channel", req.ChannelID, "cluster_id", r.ClusterID, "package_id", r.PackageID)
	st := render.Starting{Requester: req.UserID, Run: r}
	ts, err := b.cfg.Poster.Post(ctx, req.ChannelID, render.StartingCard(st), "", nil)
	if err != nil {
		log.Warn("cannot post the job card", "err", err)
		b.answer(ctx, req, cannotPost(err))
		return 0, CannotPost
	}
	in := store.Intent{Channel: req.ChannelID, CardTS: ts, Requester: req.UserID, Run: r, Asked: time.Now()}
	if err := b.cfg.Store.SaveIntent(ctx, in); err != nil {
		log.Error("remember the launch", "err", err)
		b.updateCard(ctx, req.ChannelID, ts, render.RefusedCard(st, "runjob could not reach its database, so it did not start the job. Try again in a minute."))
		return 0, Error
	}
	j, err := b.cfg.Xplenty.RunJob(ctx, runRequest(r))
	if err != nil {
		if !xplenty.IsOutcomeUnknown(err) {
			reason := reasonText(r, err)
			log.Warn("Xplenty refused the run", "status", statusCode(err), "reason", reason)
			b.forgetIntent(ctx, in.ID())
			b.updateCard(ctx, req.ChannelID, ts, render.RefusedCard(st, reason))
			return 0, Refused
		}
		log.Error("run request outcome unknown", "status", statusCode(err))
		b.updateCard(ctx, req.ChannelID, ts, render.UnknownOutcomeCard(st, b.cfg.Xplenty.JobsPageURL()))
		// Never run it again; look for it instead.
		if j = b.findStarted(ctx, in); j == nil {
			// The intent stays: RecoverLaunches looks again later.
			return 0, Unknown
		}
		log.Info("the run request's answer was lost, but the job started", "job_id", j.ID)
	}
	id, ok := b.adopt(ctx, in, j)
	switch {
	case ok:
		log.Info("job started", "job_id", id, "rerun_of", r.RerunOf)
	case id == 0: // the job found after a lost answer is followed elsewhere
		return 0, Unknown
	default:
		b.answer(ctx, req, fmt.Sprintf("Job %d started, but I could not record it yet, so its card may lag. Check it with `/runjob status %d`.", id, id))
	}
	return id, Started
}

// runRequest is the part of a run Xplenty is sent: the client speaks
// Xplenty's API, which has no presets, secret names or re-runs.
func runRequest(r commands.Run) xplenty.RunRequest {
	return xplenty.RunRequest{ClusterID: r.ClusterID, PackageID: r.PackageID,
		Variables: r.Variables, DynamicVariables: r.DynamicVariables}
}

// adopt tracks a started job for the launch's card, forgetting the launch
// in the same step, and brings the card up to date through the cards set
// (one ordered path for every card edit). When Redis cannot take it, the card is
// filled directly and the intent stays, so RecoverLaunches tracks the job
// once Redis is back. A job already followed on another card is left there,
// and this card says so.
func (b *Bot) adopt(ctx context.Context, in store.Intent, j *xplenty.Job) (int64, bool) {
	rec := job.Record{
		JobID: j.ID, Channel: in.Channel, CardTS: in.CardTS, Requester: in.Requester, Run: in.Run,
		Status: j.Status, Progress: j.Progress, HTMLURL: j.HTMLURL,
	}
	// A job that has already ended (found by recovery minutes later) is
	// tracked as started and then observed as it is, so its end is
	// recorded the way the watcher records one: a reply queued and the job
	// out of the active set. Tracked as finished, it would get neither.
	ended := j.Status.Terminal()
	if rec.Status == "" || ended {
		rec.Status = xplenty.StatusIdle
	}
	err := b.track(ctx, rec, in.ID())
	if errors.Is(err, store.ErrAlreadyTracked) {
		b.log.Warn("job already followed on another card", "job_id", j.ID)
		page := j.HTMLURL
		if other, err := b.cfg.Store.Get(ctx, j.ID); err == nil && other.HTMLURL != "" {
			page = other.HTMLURL
		}
		b.updateCard(ctx, in.Channel, in.CardTS, render.FollowedElsewhereCard(render.Starting{Requester: in.Requester, Run: in.Run}, j.ID, page))
		b.forgetIntent(ctx, in.ID())
		return 0, false
	}
	if err == nil && ended {
		_, err = b.cfg.Store.Observe(ctx, *j)
	}
	if err == nil {
		if err = b.cfg.Store.QueueCard(ctx, j.ID); err == nil {
			return j.ID, true
		}
	}
	b.log.Error("job started but not recorded yet", "job_id", j.ID, "err", err)
	b.updateCard(ctx, in.Channel, in.CardTS, render.Card(rec))
	return j.ID, false
}

// forgetIntent forgets a launch that was tracked or resolved.
func (b *Bot) forgetIntent(ctx context.Context, id string) {
	if err := b.cfg.Store.DeleteIntent(context.WithoutCancel(ctx), id); err != nil {
		b.log.Warn("forget launch", "err", err)
	}
}

// track records a started job, retrying while Redis restarts: the job is
// running, losing it is the one thing not to do.
func (b *Bot) track(ctx context.Context, rec job.Record, intentID string) error {
	wait := 100 * time.Millisecond
	for {
		err := b.cfg.Store.TrackLaunch(ctx, rec, intentID)
		if err == nil || errors.Is(err, store.ErrAlreadyTracked) {
			return err
		}
		b.log.Warn("track job, retrying", "job_id", rec.JobID, "err", err)
		if !loop.Sleep(ctx, wait) {
			return err
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func (b *Bot) updateCard(ctx context.Context, channel, ts string, m render.Message) {
	if err := b.cfg.Poster.Update(ctx, channel, ts, m); err != nil {
		b.log.Warn("update job card", "channel", channel, "ts", ts, "err", err)
	}
}

// noteRerun links a re-run from the old job's thread.
func (b *Bot) noteRerun(ctx context.Context, req Request, oldID, newID int64) {
	old, err := b.cfg.Store.Get(ctx, oldID)
	if err != nil {
		b.log.Warn("read job for the re-run note", "job_id", oldID, "err", err)
		return
	}
	if _, err := b.cfg.Poster.Post(ctx, old.Channel, render.RerunNote(old, newID, req.UserID), old.CardTS, nil); err != nil {
		b.log.Warn("post re-run note", "job_id", oldID, "err", err)
	}
}
