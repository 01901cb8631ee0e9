package bot

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
)

// FormOptions answers a search in one of the run form's pickers
// (block_suggestion): the packages, or the clusters, whose name holds what
// was typed (any case) or whose id starts with it, at most 100. Archived
// packages and terminated clusters are left out; clusters that can take a
// job come first, each labelled with its status. An id that matches
// nothing in the list is offered as typed (typedIDOption). It answers nothing to
// someone the allowlist does not let use the bot where the form runs.
func (b *Bot) FormOptions(ctx context.Context, req Request, v FormView, actionID, typed string) []render.Option {
	meta, ok := decodeMeta(v.Metadata)
	if !ok || b.cfg.Catalog == nil || !b.cfg.Access.Allowed(req.UserID, meta.Channel) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, formCatalogWait)
	defer cancel()
	query := strings.TrimSpace(typed)
	var out []render.Option
	switch actionID {
	case render.FormPackage:
		for _, p := range orderPackages(b.cfg.Catalog.Packages(ctx).Items, query) {
			out = append(out, render.IDOption(p.ID, p.Name, ""))
		}
	case render.FormCluster:
		for _, c := range orderClusters(b.cfg.Catalog.Clusters(ctx).Items, query) {
			out = append(out, clusterOption(c))
		}
	}
	if len(out) == 0 {
		if o, ok := b.typedIDOption(ctx, actionID, query); ok {
			out = append(out, o)
		}
	}
	return out[:min(len(out), 100)]
}

// typedIDOption is the choice of an id typed in a picker whose list offers
// nothing for it: one made since the list was read (the catalog refreshes
// on such a miss), or one it cannot say anything of (Xplenty out of reach,
// no list kept), which goes through as a command's id does. An archived
// package or a terminated cluster is not offered, as in the list.
func (b *Bot) typedIDOption(ctx context.Context, actionID, query string) (render.Option, bool) {
	id, err := strconv.ParseInt(query, 10, 64)
	if err != nil || id <= 0 || strings.TrimLeft(query, "0123456789") != "" {
		return render.Option{}, false
	}
	switch actionID {
	case render.FormPackage:
		if p, ok := b.cfg.Catalog.Package(ctx, id); ok {
			return render.IDOption(p.ID, p.Name, ""), p.Status != xplenty.PackageArchived
		}
	case render.FormCluster:
		if c, ok := b.cfg.Catalog.Cluster(ctx, id); ok {
			return clusterOption(c), c.Status != xplenty.ClusterTerminated
		}
	default:
		return render.Option{}, false
	}
	return render.IDOption(id, "", "not in my list"), true
}

// orderPackages returns the packages that are not archived and match
// query, those whose name starts with it first, then by name.
func orderPackages(all []xplenty.Package, query string) []xplenty.Package {
	var out []xplenty.Package
	for _, p := range all {
		if p.Status != xplenty.PackageArchived && matchesQuery(query, p.ID, p.Name) {
			out = append(out, p)
		}
	}
	lq := strings.ToLower(query)
	starts := func(p xplenty.Package) int {
		if strings.HasPrefix(strings.ToLower(p.Name), lq) {
			return 0
		}
		return 1
	}
	slices.SortFunc(out, func(a, c xplenty.Package) int {
		return cmp.Or(cmp.Compare(starts(a), starts(c)),
			cmp.Compare(strings.ToLower(a.Name), strings.ToLower(c.Name)), cmp.Compare(a.ID, c.ID))
	})
	return out
}

// matchesQuery reports whether name holds query (any case) or the id
// starts with it; everything matches an empty query.
func matchesQuery(query string, id int64, name string) bool {
	return query == "" || strings.Contains(strings.ToLower(name), strings.ToLower(query)) ||
		strings.HasPrefix(strconv.FormatInt(id, 10), query)
}
