package bot

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier"
)

// groupTTL is how long a user group's members are cached: policy rules
// name groups, and asking Slack on every command would be slow and would
// spend Slack's rate limit (usergroups.users.list is Tier 2, ~20/min).
const groupTTL = 5 * time.Minute

// GroupMembers resolves a Slack user group to its members.
// *slack.Client implements it.
type GroupMembers interface {
	GetUserGroupMembersContext(ctx context.Context, group string, options ...slack.GetUserGroupMembersOption) ([]string, error)
}

var _ GroupMembers = (*slack.Client)(nil)

// groupCache remembers group members for groupTTL.
type groupCache struct {
	api GroupMembers
	mu  sync.Mutex
	m   map[string]groupEntry
}

type groupEntry struct {
	members []string
	at      time.Time
}

// groupsOf returns which of the given groups user belongs to. A group Slack
// cannot list right now counts with its last known members, or none.
func (g *groupCache) groupsOf(ctx context.Context, user string, groups []string) ([]string, error) {
	var out []string
	var firstErr error
	for _, id := range groups {
		members, err := g.members(ctx, id)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if slices.Contains(members, user) {
			out = append(out, id)
		}
	}
	return out, firstErr
}

func (g *groupCache) members(ctx context.Context, id string) ([]string, error) {
	g.mu.Lock()
	e, ok := g.m[id]
	g.mu.Unlock()
	if ok && time.Since(e.at) < groupTTL {
		return e.members, nil
	}
	members, err := g.api.GetUserGroupMembersContext(ctx, id)
	if err != nil {
		return e.members, err
	}
	g.mu.Lock()
	g.m[id] = groupEntry{members: members, at: time.Now()}
	g.mu.Unlock()
	return members, nil
}

// target is what a launch would run, as the policy sees it.
func (l launch) target() policy.Target {
	return policy.Target{Preset: l.Preset, ClusterID: l.ClusterID, PackageID: l.PackageID}
}

// decide asks the policy whether req's user may run t here.
func (b *Bot) decide(ctx context.Context, req Request, t policy.Target) policy.Decision {
	return b.cfg.Policy.Decide(b.subject(ctx, req), t)
}

// subject is the person acting, with the user groups the policy names that
// they belong to (resolved only when some rule names groups).
func (b *Bot) subject(ctx context.Context, req Request) policy.Subject {
	subj := policy.Subject{User: req.UserID, Channel: req.ChannelID}
	if b.cfg.Policy.UsesGroups() {
		groups, err := b.groups.groupsOf(ctx, req.UserID, b.cfg.Policy.Groups())
		if err != nil {
			b.log.Warn("resolve user groups", "user", req.UserID, "err", err)
		}
		subj.Groups = groups
	}
	return subj
}

// secretNames lists the variables of a run that are secret: by name
// pattern, listed in the policy, or listed by the preset.
func (b *Bot) secretNames(l launch) []string {
	names := b.secrets.Names(l.Variables, l.DynamicVariables)
	for _, n := range l.SecretNames {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// maskedText renders a run's parameters for logs and the audit trail, with
// secret values masked.
func maskedText(l launch) string {
	mask := func(m map[string]string) map[string]string {
		if len(m) == 0 {
			return nil
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			if slices.Contains(l.SecretNames, k) {
				v = notifier.Mask
			}
			out[k] = v
		}
		return out
	}
	return commands.Render(commands.Run{
		Preset: l.Preset, ClusterID: l.ClusterID, PackageID: l.PackageID,
		Variables: mask(l.Variables), DynamicVariables: mask(l.DynamicVariables),
	})
}
