package bot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/runjob/runjob/notifier/render"
)

// logDedupe is how long after a Show log click another click on the same
// job (a double click, or someone else's) posts nothing.
const logDedupe = time.Minute

// logAct is a click on a failed card's Show log button: the job's log is
// posted in its thread, once. Reading a job's log is judged like acting on
// it: in its own channel, by someone the policy lets run it there.
func (b *Bot) logAct(ctx context.Context, req Request, id int64) (act, result) {
	rec, res := b.tracked(ctx, req, id, "show the log of")
	if res.outcome != proceed {
		return act{}, res
	}
	r := b.recorded(ctx, rec)
	return act{verb: "log", run: &r, jobID: id, namedInDenial: true,
		do: func(ctx context.Context, req Request, _ string) result {
			key := "log:" + strconv.FormatInt(id, 10)
			first, err := b.cfg.Store.Claim(ctx, key, logDedupe)
			switch {
			case err != nil:
				// Without the claim, replicas could post the log twice.
				b.log.Error("claim the log post", "job_id", id, "err", err)
				return end(Error).say("I could not reach my database, so nothing was posted. Please try again in a minute.")
			case !first:
				return end(Duplicate).say(fmt.Sprintf("The log of job %d was posted in its thread a moment ago.", id))
			}
			l, err := b.cfg.Xplenty.JobLog(ctx, id)
			if err != nil {
				b.release(ctx, key)
				reason := reasonText(r, err)
				b.log.Warn("read job log", "job_id", id, "err", err, "reason", reason)
				return end(Refused).say(fmt.Sprintf("I could not get the log of job %d from Xplenty: %s", id, render.Escape(reason)))
			}
			if _, err := b.cfg.Poster.Post(ctx, rec.Channel, render.LogMessage(rec, l.Body), rec.CardTS, nil); err != nil {
				b.release(ctx, key)
				b.log.Warn("post job log", "job_id", id, "err", err)
				return end(Error).say(fmt.Sprintf("Slack did not take the log of job %d; try again in a minute.", id))
			}
			return end(Posted).audit(auditNote{action: "log", run: r, jobID: id, outcome: "posted"})
		}}, end(proceed)
}
