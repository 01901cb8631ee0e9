package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/runjob/runjob/bot/catalog"
	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
)

// Catalog is what the bot asks of the account's packages and clusters;
// *catalog.Catalog implements it. Its lists may be stale or unknown: a run
// by id never waits on it.
type Catalog interface {
	Packages(ctx context.Context) catalog.List[xplenty.Package]
	Clusters(ctx context.Context) catalog.List[xplenty.Cluster]
	Package(ctx context.Context, id int64) (xplenty.Package, bool)
	Cluster(ctx context.Context, id int64) (xplenty.Cluster, bool)
}

var _ Catalog = (*catalog.Catalog)(nil)

// resolveTargets turns the names of a run into ids and gives the ids their
// names (and the package its page), through the catalog. It ends the
// handling when a name matches nothing or several things, or when the
// cluster is known to be unable to take a job; a run by id goes on with
// the id alone whenever the catalog does not know it.
func (b *Bot) resolveTargets(ctx context.Context, r commands.Run) (commands.Run, result) {
	var res result
	if r, res = b.resolvePackage(ctx, r); res.outcome != proceed {
		return r, res
	}
	return b.resolveCluster(ctx, r)
}

func (b *Bot) resolvePackage(ctx context.Context, r commands.Run) (commands.Run, result) {
	if r.PackageID != 0 {
		if b.cfg.Catalog != nil {
			if p, ok := b.cfg.Catalog.Package(ctx, r.PackageID); ok {
				r.PackageName, r.PackageURL = p.Name, p.HTMLURL
			}
		}
		return r, end(proceed)
	}
	if b.cfg.Catalog == nil {
		return r, namesUnavailable("package", "package=434")
	}
	l := b.cfg.Catalog.Packages(ctx)
	if !l.Known() {
		b.log.Warn("package names unknown", "err", l.Err)
		return r, namesUnavailable("package", "package=434")
	}
	res := catalog.ResolvePackage(l.Items, r.PackageName)
	switch res.Outcome {
	case catalog.Ambiguous:
		return r, end(Invalid).say(ambiguousText("package", r.PackageName, res.Matches))
	case catalog.Unknown:
		return r, end(Invalid).say(unknownText("package", r.PackageName, res.Matches, "packages", l.Truncated))
	}
	r.PackageID, r.PackageName = res.ID, res.Name
	for _, p := range l.Items {
		if p.ID == res.ID {
			r.PackageURL = p.HTMLURL
		}
	}
	return r, end(proceed)
}

func (b *Bot) resolveCluster(ctx context.Context, r commands.Run) (commands.Run, result) {
	if b.cfg.Catalog == nil {
		if r.ClusterID == 0 {
			return r, namesUnavailable("cluster", "cluster=52")
		}
		return r, end(proceed)
	}
	l := b.cfg.Catalog.Clusters(ctx)
	query := r.ClusterName
	if r.ClusterID != 0 {
		query = strconv.FormatInt(r.ClusterID, 10)
	} else if !l.Known() {
		b.log.Warn("cluster names unknown", "err", l.Err)
		return r, namesUnavailable("cluster", "cluster=52")
	}
	res := catalog.ResolveCluster(l.Items, query)
	fresh := l.Known() && !l.Stale
	if res.ByID && !res.Listed() {
		// Not in the list: a cluster made since, perhaps. The catalog
		// refreshes on such a miss (at most once a minute, for every
		// replica); an id it still does not know goes through.
		if c, ok := b.cfg.Catalog.Cluster(ctx, r.ClusterID); ok {
			res = catalog.ResolveCluster([]xplenty.Cluster{c}, query)
			fresh = true
		}
	}
	switch res.Outcome {
	case catalog.Ambiguous:
		return r, end(Invalid).say(ambiguousText("cluster", r.ClusterName, res.Matches))
	case catalog.Unknown:
		return r, end(Invalid).say(unknownText("cluster", r.ClusterName, res.Matches, "clusters", l.Truncated))
	}
	r.ClusterID = res.ID
	if res.Name != "" {
		r.ClusterName = res.Name
	}
	// Only a status the catalog saw lately refuses a run: a stale list
	// (Xplenty out of reach) may hold a cluster started again since.
	if res.Listed() && !res.Usable && fresh {
		return r, end(Invalid).say(unusableText(res, l.Items))
	}
	return r, end(proceed)
}

// namesUnavailable answers a run by name while the catalog knows nothing.
func namesUnavailable(kind, example string) result {
	return end(Error).say(fmt.Sprintf("I cannot look up %s names right now (Xplenty could not be reached), so nothing was started. Give the %s by its id, like `%s`.",
		kind, kind, example))
}

// matchList writes matches as "`name` (id)", comma-separated.
func matchList(ms []catalog.Match) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("`%s` (%d)", codeText(m.Name), m.ID)
	}
	return strings.Join(parts, ", ")
}

func ambiguousText(kind, typed string, ms []catalog.Match) string {
	shown := ms[:min(len(ms), 10)]
	more := ""
	if len(ms) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(ms)-len(shown))
	}
	return fmt.Sprintf("`%s` matches %d %ss: %s%s. Nothing was started: give the whole name or the id, like `%s=%d`.",
		codeText(typed), len(ms), kind, matchList(shown), more, kind, ms[0].ID)
}

func unknownText(kind, typed string, ms []catalog.Match, list string, truncated bool) string {
	s := fmt.Sprintf("There is no %s called `%s`, so nothing was started.", kind, codeText(typed))
	if len(ms) > 0 {
		s += " Did you mean " + matchList(ms) + "?"
	}
	s += fmt.Sprintf(" `/runjob %s` lists them.", list)
	if truncated {
		s += fmt.Sprintf(" (The account has more %ss than I keep; give its id if it is one of those.)", kind)
	}
	return s
}

func unusableText(res catalog.ClusterResolution, clusters []xplenty.Cluster) string {
	s := fmt.Sprintf("Cluster `%s` (%d) is %s, so nothing was started.", codeText(res.Name), res.ID, statusWords(res.Status))
	avail := catalog.AvailableClusters(clusters)
	if len(avail) == 0 {
		return s + " No cluster can take a job right now."
	}
	parts := make([]string, 0, min(len(avail), 10))
	for _, c := range avail[:min(len(avail), 10)] {
		parts = append(parts, fmt.Sprintf("`%s` (%d, %s)", codeText(c.Name), c.ID, statusWords(c.Status)))
	}
	return s + " Clusters that can take one: " + strings.Join(parts, ", ") + "."
}

// codeText makes a name from Xplenty or a person safe inside a code span:
// escaped, backticks replaced, on one line without control characters or
// bidi overrides, and capped.
func codeText(s string) string {
	s = strings.ReplaceAll(render.OneLine(s), "`", "'")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:79]) + "…"
	}
	return render.Escape(s)
}

// presetRuns reports whether preset p still runs r's package on r's
// cluster: by the ids it names, or by its names as the catalog resolves
// them now. A name the catalog cannot resolve does not match.
func (b *Bot) presetRuns(ctx context.Context, p policy.Preset, r commands.Run) bool {
	return b.sameTarget(ctx, p.PackageID, p.PackageName, r.PackageID, true) &&
		b.sameTarget(ctx, p.ClusterID, p.ClusterName, r.ClusterID, false)
}

func (b *Bot) sameTarget(ctx context.Context, id int64, name string, want int64, isPackage bool) bool {
	if name == "" || id != 0 {
		return id == want
	}
	if b.cfg.Catalog == nil {
		return false
	}
	var res catalog.Resolution
	if isPackage {
		res = catalog.ResolvePackage(b.cfg.Catalog.Packages(ctx).Items, name)
	} else {
		res = catalog.ResolveCluster(b.cfg.Catalog.Clusters(ctx).Items, name).Resolution
	}
	return res.Outcome == catalog.Resolved && res.ID == want
}
