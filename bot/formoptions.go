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
// job come first, each labelled with its status. It answers nothing to
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
	return out[:min(len(out), 100)]
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
