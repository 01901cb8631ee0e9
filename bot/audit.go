package bot

import (
	"context"
	"slices"
	"time"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/notifier/store"
)

// audit records an action in the audit trail (Redis stream) and as a
// structured log line. Variables are masked; a failure to record is logged,
// never shown to the user.
func (b *Bot) audit(ctx context.Context, req Request, n auditNote) {
	r, channel := n.run, req.ChannelID
	if n.channel != "" {
		channel = n.channel
	}
	vars := ""
	if r.ClusterID != 0 || r.Preset != "" {
		vars = maskedText(r)
	}
	e := store.AuditEntry{
		Action: n.action, User: req.UserID, Channel: channel, Preset: r.Preset,
		ClusterID: r.ClusterID, PackageID: r.PackageID, JobID: n.jobID,
		Variables: vars, Outcome: n.outcome, Detail: n.detail,
	}
	b.log.Info("audit", "action", n.action, "user", req.UserID, "channel", channel, "preset", r.Preset,
		"cluster_id", r.ClusterID, "package_id", r.PackageID, "job_id", n.jobID, "run", vars,
		"outcome", n.outcome, "detail", n.detail)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := b.cfg.Store.Audit(actx, e); err != nil {
		b.log.Error("write audit entry", "action", n.action, "err", err)
	}
}

// maskedText renders a run's parameters for logs and the audit trail, with
// secret values masked.
func maskedText(r commands.Run) string {
	mask := func(m map[string]string) map[string]string {
		if len(m) == 0 {
			return nil
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			if slices.Contains(r.SecretNames, k) {
				v = render.Mask
			}
			out[k] = v
		}
		return out
	}
	return commands.Render(commands.Run{
		Preset: r.Preset, ClusterID: r.ClusterID, PackageID: r.PackageID,
		Variables: mask(r.Variables), DynamicVariables: mask(r.DynamicVariables),
	})
}
