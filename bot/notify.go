package bot

import (
	"context"
	"strings"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/store"
)

// notifyAct is /runjob notify: alone, it shows what the channel hears of
// its jobs; with settings, it changes them for whoever the policy lets
// (policy.MayTune), and the change is audited.
func (b *Bot) notifyAct(n commands.Notify) act {
	if !n.Changes() {
		return act{do: func(ctx context.Context, req Request, _ string) result {
			return b.showNotify(ctx, req)
		}}
	}
	return act{verb: "notify", tunes: true, do: func(ctx context.Context, req Request, rule string) result {
		return b.setNotify(ctx, req, n, rule)
	}}
}

func (b *Bot) showNotify(ctx context.Context, req Request) result {
	n, err := b.cfg.Store.Notify(ctx, req.ChannelID)
	if err != nil {
		b.log.Error("read notify settings", "channel", req.ChannelID, "err", err)
		return end(Error).say("I could not reach my database. Please try again in a minute.")
	}
	return end(Notify).say("*What this channel hears of its jobs*\n" + describeNotify(n) +
		"\nChange it with `/runjob notify all`, `failures` or `off`, `broadcast=failures` or `broadcast=off`, `mention=on` or `mention=off`.")
}

func (b *Bot) setNotify(ctx context.Context, req Request, n commands.Notify, rule string) result {
	before, after, err := b.cfg.Store.SetNotify(ctx, req.ChannelID, n)
	if err != nil {
		b.log.Error("change notify settings", "channel", req.ChannelID, "err", err)
		return end(Error).say("I could not reach my database, so nothing was changed. Please try again in a minute.")
	}
	detail, outcome := notifyChanges(before, after, n), "changed"
	if before == after {
		outcome = "unchanged"
	}
	if rule != "" {
		detail += " (allowed by rule " + rule + ")"
	}
	b.log.Info("notify settings", "channel", req.ChannelID, "user", req.UserID, "change", detail)
	lead := "Done. "
	if before == after {
		lead = "That is how it was already. "
	}
	return end(Notify).audit(auditNote{action: "notify", outcome: outcome, detail: detail}).
		say(lead + "*What this channel hears of its jobs now*\n" + describeNotify(after))
}

// notifyChanges writes the settings n gives, as they were and are now,
// for the audit trail: "level all → failures, mention on → off".
func notifyChanges(before, after store.NotifySettings, n commands.Notify) string {
	var parts []string
	add := func(name, was, now string) {
		if was == now {
			parts = append(parts, name+" "+now+" (unchanged)")
			return
		}
		parts = append(parts, name+" "+was+" → "+now)
	}
	if n.Level != "" {
		add("level", string(before.Level), string(after.Level))
	}
	if n.Broadcast != "" {
		add("broadcast", string(before.Broadcast), string(after.Broadcast))
	}
	if n.Mention != "" {
		add("mention", onOff(before.Mention), onOff(after.Mention))
	}
	return strings.Join(parts, ", ")
}

func onOff(on bool) string {
	if on {
		return string(commands.MentionOn)
	}
	return string(commands.MentionOff)
}

// describeNotify says in words what a channel with settings n hears.
func describeNotify(n store.NotifySettings) string {
	var sb strings.Builder
	switch n.Level {
	case commands.NotifyFailures:
		sb.WriteString("• `failures`: a reply in the card's thread when a job fails, is stopped or can no longer be followed, " +
			"and a note when one is slow or stuck; completions only update the card.\n")
	case commands.NotifyOff:
		sb.WriteString("• `off`: no replies and no notes; the card still shows how each job is doing.\n")
	default:
		sb.WriteString("• `all`: a reply in the card's thread when a job ends, and a note when one is slow or stuck.\n")
	}
	if n.Broadcast == commands.NotifyFailures {
		sb.WriteString("• `broadcast=failures`: replies about failures are also shown in the channel.\n")
	} else {
		sb.WriteString("• `broadcast=off`: replies stay in the thread.\n")
	}
	if n.Mention {
		sb.WriteString("• `mention=on`: replies mention whoever started the job.")
	} else {
		sb.WriteString("• `mention=off`: replies mention nobody (the card names who started the job).")
	}
	return sb.String()
}
