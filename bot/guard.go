package bot

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/job"
)

// groupTTL is how long a user group's members are cached: policy rules
// name groups, and asking Slack on every command would be slow and would
// spend Slack's rate limit (usergroups.users.list is Tier 2, ~20/min).
const groupTTL = 5 * time.Minute

// groupStaleLimit is how long past groupTTL a group's last known members
// still count while Slack cannot list the group. A short outage of Slack's
// API should not lock a team out, but someone removed from a group must not
// keep its rights for as long as Slack stays unreachable: after this the
// group matches nobody until Slack answers again.
const groupStaleLimit = time.Hour

// GroupMembers resolves a Slack user group to its members. *deliver.Poster
// implements it, so the lookups are paced, retried and counted like every
// other Slack call.
type GroupMembers interface {
	UserGroupMembers(ctx context.Context, group string) ([]string, error)
}

var _ GroupMembers = (*deliver.Poster)(nil)

// groupCache remembers group members for groupTTL, and while Slack cannot
// list a group, for up to groupStaleLimit more.
type groupCache struct {
	api GroupMembers
	now func() time.Time
	mu  sync.Mutex
	m   map[string]groupEntry
}

type groupEntry struct {
	members []string
	at      time.Time
}

// groupsOf returns which of the given groups user belongs to, and which
// groups could not be checked: Slack cannot list them right now and their
// last known members are older than groupTTL+groupStaleLimit, or unknown.
// Those count as groups user is not in. err is Slack's first error, for the
// log.
func (g *groupCache) groupsOf(ctx context.Context, user string, groups []string) (in, unchecked []string, err error) {
	for _, id := range groups {
		members, ok, merr := g.members(ctx, id)
		if merr != nil && err == nil {
			err = merr
		}
		if !ok {
			unchecked = append(unchecked, id)
		}
		if slices.Contains(members, user) {
			in = append(in, id)
		}
	}
	return in, unchecked, err
}

// members returns a group's members; ok is false when they are not known
// recently enough to count.
func (g *groupCache) members(ctx context.Context, id string) ([]string, bool, error) {
	now := g.now()
	g.mu.Lock()
	e, cached := g.m[id]
	g.mu.Unlock()
	if cached && now.Sub(e.at) < groupTTL {
		return e.members, true, nil
	}
	members, err := g.api.UserGroupMembers(ctx, id)
	if err != nil {
		if cached && now.Sub(e.at) < groupTTL+groupStaleLimit {
			return e.members, true, err
		}
		return nil, false, err
	}
	g.mu.Lock()
	g.m[id] = groupEntry{members: members, at: now}
	g.mu.Unlock()
	return members, true, nil
}

// recorded is the launch of a stored job, for a re-run or a stop. A job
// made from a preset that was since removed, or that now runs another
// cluster or package, is a raw run of what it recorded: judging it by the
// preset's name would let a rule written for the preset's new target allow
// the old one, or presets: ["*"] allow a run nobody reviewed. Its variables
// and secret names stay as recorded; its max runtime is the preset's as it
// is now (none for a raw run).
func (b *Bot) recorded(ctx context.Context, rec job.Record) commands.Run {
	r := rec.Run
	r.RerunOf = 0
	r.MaxRuntime = 0
	if r.Preset != "" {
		if p, ok := b.cfg.Policy.Preset(r.Preset); !ok || !b.presetRuns(ctx, p, rec.Run) {
			r.Preset = ""
		} else {
			r.MaxRuntime = p.MaxRuntime // the preset's as it is now
		}
	}
	return r
}

// decide asks the policy whether req's user may run t here. A denial that
// a group Slack could not list may have caused says so, so the person knows
// to try again rather than to ask for rights they have.
func (b *Bot) decide(ctx context.Context, req Request, t commands.Run) policy.Decision {
	subj, unchecked := b.checkedSubject(ctx, req)
	d := b.cfg.Policy.Decide(subj, t)
	if !d.Allowed && len(unchecked) > 0 {
		subj.Groups = append(slices.Clone(subj.Groups), unchecked...)
		if b.cfg.Policy.Decide(subj, t).Allowed {
			d.Reason += "; your user group could not be checked with Slack right now, so try again in a few minutes"
		}
	}
	return d
}

// mayTune asks the policy whether req's person may change what req's
// channel hears, saying so when a group that could not be checked would
// have let them.
func (b *Bot) mayTune(ctx context.Context, req Request) policy.Decision {
	subj, unchecked := b.checkedSubject(ctx, req)
	d := b.cfg.Policy.MayTune(subj)
	if !d.Allowed && len(unchecked) > 0 {
		subj.Groups = append(slices.Clone(subj.Groups), unchecked...)
		if b.cfg.Policy.MayTune(subj).Allowed {
			d.Reason += "; your user group could not be checked with Slack right now, so try again in a few minutes"
		}
	}
	return d
}

// subject is the person acting, with the user groups the policy names that
// they belong to (resolved only when some rule names groups).
func (b *Bot) subject(ctx context.Context, req Request) policy.Subject {
	subj, _ := b.checkedSubject(ctx, req)
	return subj
}

// checkedSubject is subject, and the groups that could not be checked.
func (b *Bot) checkedSubject(ctx context.Context, req Request) (policy.Subject, []string) {
	subj := policy.Subject{User: req.UserID, Channel: req.ChannelID}
	if !b.cfg.Policy.UsesGroups() {
		return subj, nil
	}
	groups, unchecked, err := b.groups.groupsOf(ctx, req.UserID, b.cfg.Policy.Groups())
	if err != nil {
		b.log.Warn("resolve user groups", "user", req.UserID, "unchecked", unchecked, "err", err)
	}
	subj.Groups = groups
	return subj, unchecked
}

// secretNames lists the variables of a run that are secret: by name
// pattern, listed in the policy, or listed by the preset.
func (b *Bot) secretNames(r commands.Run) []string {
	names := b.secrets.Names(r.Variables, r.DynamicVariables)
	for _, n := range r.SecretNames {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
