package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/runjob/runjob/notifier/deliver"
	jobrec "github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/loop"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/xplenty"
)

// Dedupe windows.
const (
	// eventDedupe covers Slack's redeliveries of an envelope (it retries
	// unacked envelopes a few times over minutes) and replicas that see the
	// same event.
	eventDedupe = time.Hour
	// clickDedupe is how long a second Re-run or Stop of the same job is
	// taken for a double click.
	clickDedupe = 10 * time.Second
	// listSize is how many jobs `/runjob list` shows.
	listSize = 10
)

// Request is one command or click, whatever transport brought it.
type Request struct {
	UserID      string
	ChannelID   string
	ResponseURL string // Slack's response_url, for answers only the person sees
	// EventKey identifies the event across redeliveries and replicas:
	// Slack's trigger_id, else the envelope id.
	EventKey string
}

// HandleCommand runs one /runjob command. It must be called after the
// envelope was acked; it blocks until the command is done.
func (b *Bot) HandleCommand(ctx context.Context, req Request, text string) {
	kind, result := "command", b.handleCommand(ctx, req, text)
	b.cfg.OnCommand(kind, result)
}

func (b *Bot) handleCommand(ctx context.Context, req Request, text string) string {
	if res := b.firstDelivery(ctx, req); res != "" {
		return res
	}
	cmd, err := commands.Parse(text)
	if err != nil {
		b.answer(ctx, req, render.Escape(b.parseErrorText(err)))
		return "invalid"
	}
	if !b.allowlisted(ctx, req, "command") {
		return "denied"
	}
	switch c := cmd.(type) {
	case commands.Help:
		b.answer(ctx, req, b.help(ctx, req))
		return "help"
	case commands.Status:
		return b.status(ctx, req, c.JobID)
	case commands.List:
		return b.list(ctx, req)
	case commands.Stop:
		return b.stop(ctx, req, c.JobID)
	case commands.Rerun:
		return b.rerun(ctx, req, c.JobID)
	case commands.Run:
		l := launch{ClusterID: c.ClusterID, PackageID: c.PackageID, Variables: c.Variables, DynamicVariables: c.DynamicVariables}
		if c.Preset != "" {
			p, ok := b.cfg.Policy.Preset(c.Preset)
			if !ok {
				b.answer(ctx, req, fmt.Sprintf("There is no preset called `%s`. `/runjob help` lists the presets you may run.", render.Escape(c.Preset)))
				return "invalid"
			}
			vars, dyn := p.Apply(c.Variables, c.DynamicVariables)
			l = launch{Preset: p.Name, ClusterID: p.ClusterID, PackageID: p.PackageID,
				Variables: vars, DynamicVariables: dyn, SecretNames: p.SecretVariables}
		}
		return b.run(ctx, req, l, "run")
	}
	return "invalid"
}

// parseErrorText is the answer to a command that does not parse. The
// grammar quotes the wrong word, and sometimes an earlier one (a variable
// set twice); when a quoted word sets a secret variable, its value (and a
// hint that would repeat it) is left out.
func (b *Bot) parseErrorText(err error) string {
	var ce *commands.Error
	if !errors.As(err, &ce) {
		return err.Error()
	}
	masked := *ce
	token, tokenSecret := b.maskWord(ce.Token)
	earlier, earlierSecret := b.maskWord(ce.Earlier)
	if !tokenSecret && !earlierSecret {
		return ce.Error()
	}
	masked.Token, masked.Earlier = token, earlier
	masked.Hint = "Check how the value is quoted: `NAME=\"a b\"` groups words, `NAME=\"\"` is empty."
	return masked.Error()
}

// maskWord returns a NAME=value or NAME:=expression word with the value
// masked when NAME is secret, and whether it was.
func (b *Bot) maskWord(word string) (string, bool) {
	name, _, ok := strings.Cut(word, "=")
	dynamic := strings.HasSuffix(name, ":")
	name = strings.TrimSuffix(name, ":")
	if !ok || !b.secrets.IsSecret(name) {
		return word, false
	}
	if dynamic {
		return name + ":=" + render.Mask, true
	}
	return name + "=" + render.Mask, true
}

// help is the usage text with the presets the asking user may run.
func (b *Bot) help(ctx context.Context, req Request) string {
	text := commands.Usage()
	presets := b.cfg.Policy.PresetsFor(b.subject(ctx, req))
	if len(presets) == 0 {
		return text
	}
	var sb strings.Builder
	sb.WriteString(text)
	sb.WriteString("\n\n*Presets you may run here:*\n")
	for _, p := range presets {
		fmt.Fprintf(&sb, "• `%s` – %s (package %d on cluster %d)\n", render.Escape(p.Name), render.Escape(p.Description), p.PackageID, p.ClusterID)
	}
	return sb.String()
}

// firstDelivery claims the event, so that a redelivery or a second replica
// does nothing; it returns the result that ends the handling, or "".
func (b *Bot) firstDelivery(ctx context.Context, req Request) string {
	first, err := b.cfg.Store.Claim(ctx, "event:"+req.EventKey, eventDedupe)
	switch {
	case err != nil:
		b.log.Error("dedupe event", "user", req.UserID, "err", err)
		b.answer(ctx, req, "I could not reach my database, so nothing was done. Please try again in a minute.")
		return "error"
	case !first:
		b.log.Info("duplicate event ignored", "event", req.EventKey)
		return "duplicate"
	}
	return ""
}

// allowlisted checks ALLOWED_USERS and ALLOWED_CHANNELS for a command or a
// click; a denial is answered to the person and audited.
func (b *Bot) allowlisted(ctx context.Context, req Request, what string) bool {
	if b.cfg.Access.Allowed(req.UserID, req.ChannelID) {
		return true
	}
	b.log.Warn("denied by the allowlist", "user", req.UserID, "channel", req.ChannelID, "what", what)
	b.audit(ctx, req, "deny", launch{}, 0, "denied", what+": not in ALLOWED_USERS / ALLOWED_CHANNELS")
	doing := "use this bot"
	if what != "command" {
		doing = "run or stop jobs"
	}
	b.answer(ctx, req, "You are not allowed to "+doing+" here. Ask an admin to add you (or this channel) to the bot's allowlist.")
	return false
}

// HandleAction handles a click on a job card's button.
func (b *Bot) HandleAction(ctx context.Context, req Request, actionID, value string) {
	b.cfg.OnCommand("button", b.handleAction(ctx, req, actionID, value))
}

func (b *Bot) handleAction(ctx context.Context, req Request, actionID, value string) string {
	log := b.log.With("user", req.UserID, "channel", req.ChannelID, "action", actionID)
	if res := b.firstDelivery(ctx, req); res != "" {
		return res
	}
	if !b.allowlisted(ctx, req, "click on "+actionID) {
		return "denied"
	}
	switch actionID {
	case render.ActionConfirm:
		return b.confirm(ctx, req, value)
	case render.ActionCancel:
		return b.cancel(ctx, req, value)
	}
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		log.Warn("button with a bad job id", "value", value)
		return "invalid"
	}
	switch actionID {
	case render.ActionRerun:
		return b.rerun(ctx, req, id)
	case render.ActionStop:
		return b.stop(ctx, req, id)
	}
	log.Warn("unknown action")
	return "invalid"
}

// launch is what a run needs, from a command or from a record.
type launch struct {
	ClusterID, PackageID int64
	Preset               string
	Variables            map[string]string
	DynamicVariables     map[string]string
	SecretNames          []string
	RerunOf              int64
}

func (l launch) starting(user string) render.Starting {
	return render.Starting{
		Requester: user, ClusterID: l.ClusterID, PackageID: l.PackageID, Preset: l.Preset,
		Variables: l.Variables, DynamicVariables: l.DynamicVariables, SecretNames: l.SecretNames,
		RerunOf: l.RerunOf,
	}
}

// intent is a launch between "card posted" and "job tracked", kept in
// Redis so that a job started by a process that dies in between is still
// found and followed (RecoverLaunches).
type intent struct {
	Channel   string    `json:"channel"`
	CardTS    string    `json:"card_ts"`
	Requester string    `json:"requester"`
	Launch    launch    `json:"launch"`
	Asked     time.Time `json:"asked"`
}

func (in intent) id() string { return in.Channel + ":" + in.CardTS }

// start runs a job: post the card first (a job nobody can follow is worse
// than none), remember the launch, ask Xplenty once, then track the job and
// fill the card.
func (b *Bot) start(ctx context.Context, req Request, l launch) (int64, string) {
	log := b.log.With("user", req.UserID, "channel", req.ChannelID, "cluster_id", l.ClusterID, "package_id", l.PackageID)
	st := l.starting(req.UserID)
	ts, err := b.cfg.Poster.Post(ctx, req.ChannelID, render.StartingCard(st), "", nil)
	if err != nil {
		log.Warn("cannot post the job card", "err", err)
		b.answer(ctx, req, cannotPost(err))
		return 0, "cannot_post"
	}
	in := intent{Channel: req.ChannelID, CardTS: ts, Requester: req.UserID, Launch: l, Asked: time.Now()}
	if err := b.saveIntent(ctx, in); err != nil {
		log.Error("remember the launch", "err", err)
		b.updateCard(ctx, req.ChannelID, ts, render.RefusedCard(st, "runjob could not reach its database, so it did not start the job. Try again in a minute."))
		return 0, "error"
	}
	job, err := b.cfg.Xplenty.RunJob(ctx, xplenty.RunRequest{
		ClusterID: l.ClusterID, PackageID: l.PackageID,
		Variables: l.Variables, DynamicVariables: l.DynamicVariables,
	})
	if err != nil {
		if !xplenty.IsOutcomeUnknown(err) {
			reason := reasonText(l, err)
			log.Warn("Xplenty refused the run", "status", statusCode(err), "reason", reason)
			b.forgetIntent(ctx, in)
			b.updateCard(ctx, req.ChannelID, ts, render.RefusedCard(st, reason))
			return 0, "refused"
		}
		log.Error("run request outcome unknown", "status", statusCode(err))
		b.updateCard(ctx, req.ChannelID, ts, render.UnknownOutcomeCard(st, b.cfg.Xplenty.JobsPageURL()))
		// Never run it again; look for it instead.
		if job = b.findStarted(ctx, in); job == nil {
			// The intent stays: RecoverLaunches looks again later.
			return 0, "unknown"
		}
		log.Info("the run request's answer was lost, but the job started", "job_id", job.ID)
	}
	id, ok := b.adopt(ctx, in, job)
	switch {
	case ok:
		log.Info("job started", "job_id", id, "rerun_of", l.RerunOf)
	case id == 0: // the job found after a lost answer is followed elsewhere
		return 0, "unknown"
	default:
		b.answer(ctx, req, fmt.Sprintf("Job %d started, but I could not record it yet, so its card may lag. Check it with `/runjob status %d`.", id, id))
	}
	return id, "started"
}

// adopt tracks a started job for the launch's card, forgetting the launch
// in the same step, and brings the card up to date through the cards set
// (one ordered path for every card edit). When Redis cannot take it, the card is
// filled directly and the intent stays, so RecoverLaunches tracks the job
// once Redis is back. A job already followed on another card is left there,
// and this card says so.
func (b *Bot) adopt(ctx context.Context, in intent, job *xplenty.Job) (int64, bool) {
	l := in.Launch
	rec := jobrec.Record{
		JobID: job.ID, Channel: in.Channel, CardTS: in.CardTS, Requester: in.Requester,
		ClusterID: l.ClusterID, PackageID: l.PackageID, Preset: l.Preset,
		Variables: l.Variables, DynamicVariables: l.DynamicVariables, SecretNames: l.SecretNames,
		RerunOf: l.RerunOf, Status: job.Status, Progress: job.Progress, HTMLURL: job.HTMLURL,
	}
	// A job that has already ended (found by recovery minutes later) is
	// tracked as started and then observed as it is, so its end is
	// recorded the way the watcher records one: a reply queued and the job
	// out of the active set. Tracked as finished, it would get neither.
	ended := job.Status.Terminal()
	if rec.Status == "" || ended {
		rec.Status = xplenty.StatusIdle
	}
	err := b.track(ctx, rec, in.id())
	if errors.Is(err, store.ErrAlreadyTracked) {
		b.log.Warn("job already followed on another card", "job_id", job.ID)
		page := job.HTMLURL
		if other, err := b.cfg.Store.Get(ctx, job.ID); err == nil && other.HTMLURL != "" {
			page = other.HTMLURL
		}
		b.updateCard(ctx, in.Channel, in.CardTS, render.FollowedElsewhereCard(l.starting(in.Requester), job.ID, page))
		b.forgetIntent(ctx, in)
		return 0, false
	}
	if err == nil && ended {
		_, err = b.cfg.Store.Observe(ctx, *job)
	}
	if err == nil {
		if err = b.cfg.Store.QueueCard(ctx, job.ID); err == nil {
			return job.ID, true
		}
	}
	b.log.Error("job started but not recorded yet", "job_id", job.ID, "err", err)
	b.updateCard(ctx, in.Channel, in.CardTS, render.Card(rec))
	return job.ID, false
}

func (b *Bot) saveIntent(ctx context.Context, in intent) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return b.cfg.Store.SaveIntent(ctx, in.id(), data, in.Asked)
}

func (b *Bot) forgetIntent(ctx context.Context, in intent) {
	if err := b.cfg.Store.DeleteIntent(context.WithoutCancel(ctx), in.id()); err != nil {
		b.log.Warn("forget launch", "err", err)
	}
}

// recoverAfter is how old a launch must be before RecoverLaunches looks at
// it: older than any run request in flight (a handler gets a minute).
const recoverAfter = 2 * time.Minute

// RecoverLaunches resolves launches whose process died between "card
// posted" and "job tracked": it looks for the job in Xplenty (never runs
// it again), tracks it when exactly one fits, and otherwise tells the card
// the outcome is unknown. Every replica may run it; a lock per launch
// keeps them from doing the same one twice.
func (b *Bot) RecoverLaunches(ctx context.Context) {
	stale, err := b.cfg.Store.StaleIntents(ctx, time.Now().Add(-recoverAfter), 20)
	if err != nil {
		b.log.Warn("look for unfinished launches", "err", err)
		return
	}
	for id, data := range stale {
		var in intent
		readable := data != nil && json.Unmarshal(data, &in) == nil
		ok, err := b.cfg.Store.Lock(ctx, "intent:"+id, b.holder, 5*time.Minute)
		if err != nil || !ok {
			continue
		}
		if !readable {
			b.lostLaunch(ctx, id)
			continue
		}
		b.recoverLaunch(ctx, in)
	}
}

// lostLaunch resolves a launch whose data cannot be read (sealed with a key
// that is gone): its id still names the card, which is told, so that it
// does not stay at "Starting…" forever.
func (b *Bot) lostLaunch(ctx context.Context, id string) {
	channel, ts, _ := strings.Cut(id, ":") // intent.id
	b.log.Warn("a launch whose details cannot be read (sealing key gone): the card is told", "channel", channel, "card", ts)
	if channel != "" && ts != "" {
		b.updateCard(ctx, channel, ts, render.LostLaunchCard(b.cfg.Xplenty.JobsPageURL()))
	}
	if err := b.cfg.Store.DeleteIntent(context.WithoutCancel(ctx), id); err != nil {
		b.log.Warn("forget launch", "err", err)
	}
}

func (b *Bot) recoverLaunch(ctx context.Context, in intent) {
	log := b.log.With("channel", in.Channel, "card", in.CardTS, "package_id", in.Launch.PackageID)
	// A job tracked for this card means the launch was resolved and only
	// its forgetting was cut short (a process of an older version, which
	// did the two apart): the card is that job's, and is not written over.
	if id, ok, err := b.cfg.Store.CardJob(ctx, in.Channel, in.CardTS, in.Asked.Add(-cardJobSkew)); err != nil {
		log.Warn("look for the job of an unfinished launch's card", "err", err)
		return // tried again next round
	} else if ok {
		log.Info("unfinished launch already has its job; forgetting it", "job_id", id)
		b.forgetIntent(ctx, in)
		return
	}
	job, n, err := b.lookForJob(ctx, in)
	if err != nil {
		log.Warn("look for the job of an unfinished launch", "err", err)
		return // tried again next round
	}
	if n == 1 {
		if id, ok := b.adopt(ctx, in, job); ok {
			log.Info("recovered a job whose launch was cut short", "job_id", id)
		}
		return
	}
	log.Warn("unfinished launch: the job cannot be identified", "candidates", n)
	b.updateCard(ctx, in.Channel, in.CardTS, render.UnknownOutcomeCard(in.Launch.starting(in.Requester), b.cfg.Xplenty.JobsPageURL()))
	b.forgetIntent(ctx, in)
}

// findSkew allows for clocks when looking for a job whose run request lost
// its answer: Xplenty's created_at against ours.
const findSkew = 2 * time.Minute

// findPauses are the pauses before each look for such a job: it may take a
// moment to appear in the list.
func findPauses() []time.Duration {
	return []time.Duration{time.Second, 3 * time.Second, 8 * time.Second}
}

// findStarted looks in Xplenty's list of the package's newest jobs for the
// one a run request whose answer was lost may have started, a few times
// over a few seconds (it may take a moment to appear). It adopts a job only
// when exactly one fits, so it never claims someone else's run, and it never
// runs anything.
func (b *Bot) findStarted(ctx context.Context, in intent) *xplenty.Job {
	for _, pause := range findPauses() {
		if !loop.Sleep(ctx, pause) {
			return nil
		}
		job, n, err := b.lookForJob(ctx, in)
		switch {
		case err != nil:
			b.log.Warn("look for the job of a lost run answer", "err", err)
		case n == 1:
			return job
		case n > 1:
			b.log.Warn("several jobs could be the one whose run answer was lost; not guessing", "candidates", n)
			return nil
		}
	}
	return nil
}

// lookForJob lists the package's newest jobs (one call) and returns the
// jobs that could be the launch's: same cluster, same variables, created
// since it was asked, not tracked yet. It returns the job when exactly one
// fits and no other launch could own it, and how many jobs and owners are
// possible: a job of the list that does not decode could be the one, and
// another identical launch still pending could be the job's owner
// (someone else's identical run is never taken for this one's).
func (b *Bot) lookForJob(ctx context.Context, in intent) (*xplenty.Job, int, error) {
	l, asked := in.Launch, in.Asked
	page, err := b.cfg.Xplenty.ListJobs(ctx, xplenty.ListOptions{
		PackageID: l.PackageID, Sort: "created", Direction: "desc", Limit: 20,
	})
	if err != nil {
		return nil, 0, err
	}
	var found []xplenty.Job
	for _, j := range page.Jobs {
		if j.ClusterID != l.ClusterID || j.CreatedAt == nil || j.CreatedAt.Before(asked.Add(-findSkew)) ||
			!sameVars(j.Variables, l.Variables) || !sameDynamic(j, l) {
			continue
		}
		if _, err := b.cfg.Store.Get(ctx, j.ID); !errors.Is(err, store.ErrNotTracked) {
			continue // ours already, or Redis cannot tell: do not guess
		}
		found = append(found, j)
	}
	n := len(found) + len(page.Undecodable)
	if n != 1 || len(found) != 1 {
		return nil, n, nil
	}
	twins, err := b.pendingTwins(ctx, in, found[0])
	if err != nil {
		return nil, 0, err
	}
	if twins > 0 {
		return nil, 1 + twins, nil
	}
	return &found[0], 1, nil
}

// sameDynamic reports whether a job may have the launch's dynamic
// variables: Xplenty does not always echo them, and a job that shows none
// cannot be told apart by them (countTwins then weighs every launch that
// differs only in them).
func sameDynamic(j xplenty.Job, l launch) bool {
	return j.DynamicVariables == nil || sameVars(j.DynamicVariables, l.DynamicVariables)
}

func sameVars(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// track records a started job, retrying while Redis restarts: the job is
// running, losing it is the one thing not to do.
func (b *Bot) track(ctx context.Context, rec jobrec.Record, intentID string) error {
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

// tracked reads the record of a job to re-run or stop; when there is none,
// or the job belongs to another channel, it answers the user and returns
// the command's result.
func (b *Bot) tracked(ctx context.Context, req Request, id int64, verb string) (jobrec.Record, string) {
	rec, err := b.cfg.Store.Get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotTracked):
		b.answer(ctx, req, fmt.Sprintf("I have no record of job %d: it was not started from Slack, or it ended long enough ago to be forgotten. I can only %s jobs I started and remember.", id, verb))
		return rec, "invalid"
	case err != nil:
		b.log.Error("read job", "job_id", id, "for", verb, "err", err)
		b.answer(ctx, req, "I could not reach my database, so nothing was done. Please try again in a minute.")
		return rec, "error"
	case rec.Channel != req.ChannelID:
		// A job is acted on only where it was started: the allowlist and the
		// policy were asked about this channel, and a re-run from elsewhere
		// would send the requester's secret values for someone they never
		// shared them with. The answer says nothing else about the job (it
		// may belong to a private channel).
		b.log.Warn("job of another channel", "job_id", id, "for", verb, "user", req.UserID, "channel", req.ChannelID, "job_channel", rec.Channel)
		b.audit(ctx, req, "deny", launch{}, id, "denied", verb+": the job was started in channel "+rec.Channel)
		b.answer(ctx, req, fmt.Sprintf("Job %d was started in another channel.", id))
		return rec, "denied"
	}
	return rec, ""
}

// rerun starts a tracked job again with the parameters kept in Redis (never
// those shown in the message, which anyone could have edited or which mask
// secrets).
func (b *Bot) rerun(ctx context.Context, req Request, id int64) string {
	old, res := b.tracked(ctx, req, id, "re-run")
	if res != "" {
		return res
	}
	if len(old.LostSecrets) > 0 {
		b.answer(ctx, req, fmt.Sprintf("I can no longer read the secret values of job %d (%s): the key they were encrypted with has changed. Start the job again with `/runjob`.",
			id, render.Escape(strings.Join(old.LostSecrets, ", "))))
		return "invalid"
	}
	// A double click within clickDedupe starts one job; a click that
	// started nothing (denied, refused) does not block the next one.
	key := "rerun:" + strconv.FormatInt(id, 10)
	if first, err := b.cfg.Store.Claim(ctx, key, clickDedupe); err == nil && !first {
		b.answer(ctx, req, fmt.Sprintf("Job %d was re-run a moment ago; I did not start it twice.", id))
		return "duplicate"
	}
	l := b.recorded(old)
	l.RerunOf = old.JobID
	res = b.run(ctx, req, l, "rerun")
	if res != "started" && res != "confirm" && res != "unknown" {
		b.release(ctx, key)
	}
	return res
}

// release gives a click claim back when the click did nothing.
func (b *Bot) release(ctx context.Context, key string) {
	if err := b.cfg.Store.Release(context.WithoutCancel(ctx), key); err != nil {
		b.log.Warn("release click claim", "key", key, "err", err)
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

// run checks a launch against the policy, then starts it, or first asks
// the runner to confirm when its cluster or package is protected.
func (b *Bot) run(ctx context.Context, req Request, l launch, action string) string {
	l.SecretNames = b.secretNames(l)
	d := b.decide(ctx, req, l.target())
	if !d.Allowed {
		b.log.Warn("run denied by the policy", "user", req.UserID, "channel", req.ChannelID, "preset", l.Preset,
			"cluster_id", l.ClusterID, "package_id", l.PackageID)
		b.audit(ctx, req, "deny", l, 0, "denied", d.Reason)
		b.answer(ctx, req, "Not allowed: "+render.Escape(d.Reason)+".")
		return "denied"
	}
	if d.Confirm {
		return b.askConfirm(ctx, req, l, action, d.Reason)
	}
	return b.launch(ctx, req, l, action, d.Rule)
}

// launch starts the job and records the action in the audit trail.
func (b *Bot) launch(ctx context.Context, req Request, l launch, action, rule string) string {
	id, res := b.start(ctx, req, l)
	detail := ""
	if rule != "" {
		detail = "allowed by rule " + rule
	}
	b.audit(ctx, req, action, l, id, res, detail)
	if id != 0 && l.RerunOf != 0 {
		b.noteRerun(ctx, req, l.RerunOf, id)
	}
	return res
}

// stop asks Xplenty to stop a tracked job; the thread reply follows when
// Xplenty reports it stopped.
func (b *Bot) stop(ctx context.Context, req Request, id int64) string {
	rec, res := b.tracked(ctx, req, id, "stop")
	if res != "" {
		return res
	}
	if rec.Terminal() {
		b.answer(ctx, req, fmt.Sprintf("Job %d has already ended (%s).", id, rec.Status))
		return "invalid"
	}
	l := b.recorded(rec)
	// Whoever may run a job may stop it.
	if d := b.decide(ctx, req, l.target()); !d.Allowed {
		b.audit(ctx, req, "deny", l, id, "denied", "stop: "+d.Reason)
		b.answer(ctx, req, "Not allowed: "+render.Escape(d.Reason)+".")
		return "denied"
	}
	key := "stop:" + strconv.FormatInt(id, 10)
	if first, err := b.cfg.Store.Claim(ctx, key, clickDedupe); err == nil && !first {
		b.answer(ctx, req, fmt.Sprintf("Job %d is already being stopped.", id))
		return "duplicate"
	}
	job, err := b.cfg.Xplenty.StopJob(ctx, id)
	if err != nil {
		b.release(ctx, key)
		// err's text never holds what Xplenty said (ErrorResponse.Error);
		// the reason, which does, is scrubbed first.
		reason := reasonText(l, err)
		b.log.Warn("stop job", "job_id", id, "err", err, "reason", reason)
		b.audit(ctx, req, "stop", l, id, "refused", reason)
		b.answer(ctx, req, fmt.Sprintf("Xplenty did not stop job %d: %s", id, render.Escape(reason)))
		return "refused"
	}
	b.audit(ctx, req, "stop", l, id, "stopping", "")
	if err := b.cfg.Store.RequestStop(ctx, id, req.UserID); err != nil && !errors.Is(err, store.ErrFinished) {
		b.log.Warn("record stop request", "job_id", id, "err", err)
	}
	if _, err := b.cfg.Store.Observe(ctx, *job); err != nil {
		b.log.Warn("record stopping status", "job_id", id, "err", err)
	}
	b.log.Info("stop requested", "job_id", id, "user", req.UserID)
	return "stopped"
}

// status answers `/runjob status <id>`.
func (b *Bot) status(ctx context.Context, req Request, id int64) string {
	rec, err := b.cfg.Store.Get(ctx, id)
	if err == nil {
		// A job started in another (maybe private) channel is shown only to
		// someone the allowlist and the policy let run it there, in its
		// channel: being allowed the same package here is not enough.
		there := req
		there.ChannelID = rec.Channel
		if rec.Channel != req.ChannelID && (!b.cfg.Access.Allowed(req.UserID, rec.Channel) ||
			!b.decide(ctx, there, b.recorded(rec).target()).Allowed) {
			b.answer(ctx, req, fmt.Sprintf("Job %d is not one you may see here.", id))
			return "denied"
		}
		b.answer(ctx, req, statusLine(rec))
		return "status"
	}
	if !errors.Is(err, store.ErrNotTracked) {
		b.log.Warn("read job for status", "job_id", id, "err", err)
	}
	// Not started from Slack: ask Xplenty, and show it only to someone the
	// policy lets run that package on that cluster.
	job, jerr := b.cfg.Xplenty.GetJob(ctx, id)
	if jerr != nil {
		b.answer(ctx, req, fmt.Sprintf("I could not find job %d: %s", id, render.Escape(reasonText(launch{}, jerr))))
		return "invalid"
	}
	if d := b.decide(ctx, req, commands.Run{ClusterID: job.ClusterID, PackageID: job.PackageID}); !d.Allowed {
		b.answer(ctx, req, fmt.Sprintf("Job %d is not one you may see here.", id))
		return "denied"
	}
	b.answer(ctx, req, statusLine(jobrec.Record{
		JobID: job.ID, ClusterID: job.ClusterID, PackageID: job.PackageID, Status: job.Status,
		Progress: job.Progress, HTMLURL: job.HTMLURL, Errors: job.Errors,
	}))
	return "status"
}

// list answers `/runjob list`.
func (b *Bot) list(ctx context.Context, req Request) string {
	recs, err := b.cfg.Store.Recent(ctx, req.ChannelID, listSize)
	if err != nil {
		b.log.Warn("list jobs", "err", err)
		b.answer(ctx, req, "I could not reach my database. Please try again in a minute.")
		return "error"
	}
	if len(recs) == 0 {
		b.answer(ctx, req, "No jobs were started from this channel yet. Start one with `/runjob cluster=52 package=434`.")
		return "list"
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
	b.answer(ctx, req, sb.String())
	return "list"
}

// statusLine is one line about a job, for status and list answers.
func statusLine(r jobrec.Record) string {
	s := fmt.Sprintf("%s Job %d: *%s*", render.StatusEmoji(r.Status), r.JobID, render.StatusText(r.Status))
	if r.Status == xplenty.StatusRunning {
		s += " " + render.ProgressBar(r.Progress)
	}
	s += fmt.Sprintf(" · package %d on cluster %d", r.PackageID, r.ClusterID)
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

// refusal is the reason to show for an Xplenty error, as raw text (escape
// it, or let the renderer do it): the server's own message when there is
// one, else a safe summary.
func refusal(err error) string {
	var er *xplenty.ErrorResponse
	switch {
	case errors.As(err, &er) && er.ServerMessage() != "":
		return er.ServerMessage()
	case xplenty.IsUnauthorized(err):
		return "the bot's Xplenty API key was refused."
	case xplenty.IsRateLimited(err):
		return "Xplenty's rate limit is used up; try again in a few minutes."
	}
	return "Xplenty could not be reached; try again in a minute."
}

// statusCode is the HTTP status of an Xplenty error, 0 when there was none.
func statusCode(err error) int {
	var er *xplenty.ErrorResponse
	if errors.As(err, &er) {
		return er.StatusCode
	}
	return 0
}

// maxReason bounds Xplenty's reason where the bot repeats it: an answer,
// a card, an audit entry, a log line.
const maxReason = 500

// reasonText is Xplenty's reason for refusing l, ready for an answer, a
// card, the audit trail and the log: the launch's secret values scrubbed
// from the raw message first, then the text collapsed onto one line and
// shortened (in that order, so that a secret holding two spaces or
// crossing the length limit is still found). It is raw text: escape it, or
// let the renderer do it.
func reasonText(l launch, err error) string {
	return render.NewScrubber(l.SecretNames, l.Variables, l.DynamicVariables).Summary(refusal(err), maxReason)
}

// cannotPost explains why the card could not be posted.
func cannotPost(err error) string {
	switch deliver.SlackErrorCode(err) {
	case "not_in_channel", "channel_not_found":
		return "I can't post in this channel, so I did not start the job (nobody could follow it). Invite me first: type `/invite @runjob` here, then run the command again."
	case "is_archived":
		return "This channel is archived, so I did not start the job."
	}
	return "Slack did not accept the job card, so I did not start the job. Please try again in a minute."
}

// answer tells only the person who acted.
func (b *Bot) answer(ctx context.Context, req Request, text string) {
	b.answerMessage(ctx, req, textMessage(text), false)
}
