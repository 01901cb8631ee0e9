package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/render"
)

// Request is one command or click, whatever transport brought it.
type Request struct {
	UserID      string
	ChannelID   string
	ResponseURL string // Slack's response_url, for answers only the person sees
	// EventKey identifies the event across redeliveries and replicas:
	// Slack's trigger_id, else the envelope id.
	EventKey string
	// TriggerID is Slack's trigger_id of the command or click, which opens
	// a form (for 3 s, once); "" when there is none.
	TriggerID string
}

// Dedupe windows.
const (
	// eventDedupe covers Slack's redeliveries of an envelope (it retries
	// unacked envelopes a few times over minutes) and replicas that see the
	// same event.
	eventDedupe = time.Hour
	// clickDedupe is how long a second Re-run or Stop of the same job is
	// taken for a double click.
	clickDedupe = 10 * time.Second
)

// act is one thing a person asked for, as the parse step understood it:
// what to do, and the run it would start or touch, for the policy and the
// audit trail.
type act struct {
	// verb names the act in the audit trail: run, rerun, stop, log,
	// confirm, cancel, notify (status, list and help are not audited).
	verb string
	// run is what the policy judges before the act is done; nil when the
	// act is not judged by the run it names (help, list, status, confirm,
	// cancel: each judges, or needs no judging, in its own step).
	run *commands.Run
	// jobID is the job a stop is about, for its audit entry; 0 for a run
	// or a re-run (a re-run names its old job in run.RerunOf).
	jobID int64
	// tunes is set on an act that changes the channel's settings (what it
	// hears of its jobs): the policy judges whether this person may
	// (policy.MayTune), whatever they may run.
	tunes bool
	// confirmable acts wait for their runner's confirmation when the
	// policy protects their run; others (stop, log) do not.
	confirmable bool
	// namedInDenial acts on an existing job (stop, log) have their verb in
	// the detail of a policy denial's audit entry ("stop: reason").
	namedInDenial bool
	// claim is a double-click claim the parse step took; it is given back
	// when the act ends having done nothing.
	claim string
	// do executes the act once it is allowed; rule names the policy rule
	// that allowed it ("" without rules).
	do func(ctx context.Context, req Request, rule string) result
}

// result is how a step ends the handling: the outcome, what the audit
// trail records (nil: nothing), and the closing answer to the person,
// given after the audit trail has the act.
type result struct {
	outcome Outcome
	note    *auditNote
	answer  *render.Message
	replace bool // the answer replaces the message clicked (a confirmation)
}

// end is a result with outcome o.
func end(o Outcome) result { return result{outcome: o} }

// audit returns r recording n in the audit trail.
func (r result) audit(n auditNote) result { r.note = &n; return r }

// say returns r closing with text for the person.
func (r result) say(text string) result { return r.show(textMessage(text), false) }

// show returns r closing with m for the person.
func (r result) show(m render.Message, replace bool) result {
	r.answer, r.replace = &m, replace
	return r
}

// auditNote is what the audit trail records about a handled request.
type auditNote struct {
	action  string
	run     commands.Run
	jobID   int64
	outcome string
	detail  string
	// channel is where the act belongs when it is not where the person
	// acted (a confirmation clicked elsewhere); "" is the request's.
	channel string
}

// HandleCommand runs one /runjob command. It must be called after the
// envelope was acked; it blocks until the command is done.
func (b *Bot) HandleCommand(ctx context.Context, req Request, text string) {
	o := b.handle(ctx, req, "command", func(ctx context.Context) (act, result) {
		return b.parseCommand(ctx, req, text)
	})
	b.cfg.OnCommand("command", o)
}

// HandleAction handles a click on a button of the bot's messages.
func (b *Bot) HandleAction(ctx context.Context, req Request, actionID, value string) {
	o := b.handle(ctx, req, "click on "+actionID, func(ctx context.Context) (act, result) {
		return b.parseClick(ctx, req, actionID, value)
	})
	b.cfg.OnCommand("button", o)
}

// handle is the path of every command and click, in order: claim the
// event, check the allowlist, parse, ask the policy, ask for a
// confirmation, execute; then, whichever step ended the handling, record
// the act in the audit trail and give the person the closing answer.
func (b *Bot) handle(ctx context.Context, req Request, what string, parse func(context.Context) (act, result)) Outcome {
	// 1. Claim: a redelivery, or the same event at another replica, does nothing.
	if res := b.claim(ctx, req); res.outcome != proceed {
		return b.finish(ctx, req, res)
	}
	// 2. The allowlist (ALLOWED_USERS, ALLOWED_CHANNELS).
	if res := b.allowlisted(req, what); res.outcome != proceed {
		return b.finish(ctx, req, res)
	}
	// 3. Parse: the text or the click into an act, reading the job it names.
	a, res := parse(ctx)
	if res.outcome != proceed {
		return b.finish(ctx, req, res)
	}
	res = b.judgeAndDo(ctx, req, a)
	if a.claim != "" && !res.outcome.keepsClaim() {
		b.release(ctx, a.claim)
	}
	return b.finish(ctx, req, res)
}

// judgeAndDo is steps 4 to 6 of handle: the policy, the confirmation,
// the act itself.
func (b *Bot) judgeAndDo(ctx context.Context, req Request, a act) result {
	rule := ""
	if a.tunes {
		// 4. The policy: may this person change what this channel hears?
		d := b.mayTune(ctx, req)
		if !d.Allowed {
			b.log.Warn("denied by the policy", "user", req.UserID, "channel", req.ChannelID, "verb", a.verb)
			return end(Denied).audit(auditNote{action: "deny", outcome: "denied", detail: a.verb + ": " + d.Reason}).
				say("Not allowed: " + render.Escape(d.Reason) + ".")
		}
		rule = d.Rule
	}
	if a.run != nil {
		// 4. The policy: may this person run that, here?
		d := b.decide(ctx, req, *a.run)
		if !d.Allowed {
			b.log.Warn("denied by the policy", "user", req.UserID, "channel", req.ChannelID, "verb", a.verb,
				"preset", a.run.Preset, "cluster_id", a.run.ClusterID, "package_id", a.run.PackageID)
			detail := d.Reason
			if a.namedInDenial {
				detail = a.verb + ": " + d.Reason
			}
			return end(Denied).audit(auditNote{action: "deny", run: *a.run, jobID: a.jobID, outcome: "denied", detail: detail}).
				say("Not allowed: " + render.Escape(d.Reason) + ".")
		}
		// 5. A protected run waits for its runner to confirm it.
		if d.Confirm && a.confirmable {
			return b.askConfirm(ctx, req, *a.run, a.verb, d.Reason)
		}
		rule = d.Rule
	}
	// 6. Execute.
	return a.do(ctx, req, rule)
}

// finish ends the handling: 7. the audit trail records the act, then
// 8. the person gets the closing answer (so that whoever reads the trail
// after the answer finds the act there).
func (b *Bot) finish(ctx context.Context, req Request, res result) Outcome {
	if res.note != nil {
		b.audit(ctx, req, *res.note)
	}
	if res.answer != nil {
		b.answerMessage(ctx, req, *res.answer, res.replace)
	}
	return res.outcome
}

// claim claims the event, so that a redelivery or a second replica does
// nothing; it returns the outcome that ends the handling, or proceed.
func (b *Bot) claim(ctx context.Context, req Request) result {
	first, err := b.cfg.Store.Claim(ctx, "event:"+req.EventKey, eventDedupe)
	switch {
	case err != nil:
		b.log.Error("dedupe event", "user", req.UserID, "err", err)
		return end(Error).say("I could not reach my database, so nothing was done. Please try again in a minute.")
	case !first:
		b.log.Info("duplicate event ignored", "event", req.EventKey)
		return end(Duplicate)
	}
	return end(proceed)
}

// allowlisted checks ALLOWED_USERS and ALLOWED_CHANNELS for a command or a
// click.
func (b *Bot) allowlisted(req Request, what string) result {
	if b.cfg.Access.Allowed(req.UserID, req.ChannelID) {
		return end(proceed)
	}
	b.log.Warn("denied by the allowlist", "user", req.UserID, "channel", req.ChannelID, "what", what)
	doing := "use this bot"
	if what != "command" {
		doing = "run or stop jobs"
	}
	return end(Denied).audit(auditNote{action: "deny", outcome: "denied", detail: what + ": not in ALLOWED_USERS / ALLOWED_CHANNELS"}).
		say("You are not allowed to " + doing + " here. Ask an admin to add you (or this channel) to the bot's allowlist.")
}

// parseCommand turns command text into an act.
func (b *Bot) parseCommand(ctx context.Context, req Request, text string) (act, result) {
	cmd, err := commands.Parse(text)
	if err != nil {
		return act{}, end(Invalid).say(render.Escape(b.parseErrorText(err)))
	}
	switch c := cmd.(type) {
	case commands.Help:
		return act{do: b.help}, end(proceed)
	case commands.Status:
		return act{do: func(ctx context.Context, req Request, _ string) result {
			return b.status(ctx, req, c.JobID)
		}}, end(proceed)
	case commands.List:
		return act{do: b.list}, end(proceed)
	case commands.Stop:
		return b.stopAct(ctx, req, c.JobID)
	case commands.Rerun:
		return b.rerunAct(ctx, req, c.JobID)
	case commands.Run:
		if c.Preset != "" {
			p, ok := b.cfg.Policy.Preset(c.Preset)
			if !ok {
				return act{}, end(Invalid).say("There is no preset called `" + render.Escape(c.Preset) + "`. `/runjob help` lists the presets you may run.")
			}
			vars, dyn := p.Apply(c.Variables, c.DynamicVariables)
			c = commands.Run{Preset: p.Name, ClusterID: p.ClusterID, PackageID: p.PackageID,
				ClusterName: p.ClusterName, PackageName: p.PackageName,
				Variables: vars, DynamicVariables: dyn, SecretNames: p.SecretVariables, MaxRuntime: p.MaxRuntime}
		}
		c, res := b.resolveTargets(ctx, c)
		if res.outcome != proceed {
			return act{}, res
		}
		return b.runAct(c, "run"), end(proceed)
	case commands.Packages:
		return act{do: func(ctx context.Context, req Request, _ string) result {
			return b.packages(ctx, c.Words)
		}}, end(proceed)
	case commands.Clusters:
		return act{do: func(ctx context.Context, req Request, _ string) result {
			return b.clusters(ctx, c.Words)
		}}, end(proceed)
	case commands.Form:
		return b.formAct(), end(proceed)
	case commands.Notify:
		return b.notifyAct(c), end(proceed)
	}
	return act{}, end(Invalid)
}

// clickHandler parses a click on the button with its action id.
type clickHandler func(ctx context.Context, req Request, value string) (act, result)

// clickHandlers are the buttons of the bot's messages, by action id.
func (b *Bot) clickHandlers() map[string]clickHandler {
	return map[string]clickHandler{
		render.ActionRerun:   b.jobClick(b.rerunAct),
		render.ActionStop:    b.jobClick(b.stopAct),
		render.ActionLog:     b.jobClick(b.logAct),
		render.ActionEdit:    b.jobClick(b.editAct),
		render.ActionConfirm: b.confirmAct,
		render.ActionCancel:  b.cancelAct,
	}
}

// jobClick parses the value of a button that names a job.
func (b *Bot) jobClick(parse func(ctx context.Context, req Request, id int64) (act, result)) clickHandler {
	return func(ctx context.Context, req Request, value string) (act, result) {
		id, err := strconv.ParseInt(value, 10, 64)
		if err != nil || id <= 0 {
			b.log.Warn("button with a bad job id", "user", req.UserID, "value", value)
			return act{}, end(Invalid)
		}
		return parse(ctx, req, id)
	}
}

// parseClick turns a click into an act.
func (b *Bot) parseClick(ctx context.Context, req Request, actionID, value string) (act, result) {
	h, ok := b.clicks[actionID]
	if !ok {
		b.log.Warn("unknown action", "user", req.UserID, "channel", req.ChannelID, "action", actionID)
		return act{}, end(Invalid)
	}
	return h(ctx, req, value)
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
