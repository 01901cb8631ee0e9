package catalog

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/runjob/runjob/bot/nearest"
	"github.com/runjob/runjob/xplenty"
)

// Resolving what a person typed after package= or cluster=: an id passes
// through; otherwise, without regard to case, an exact name wins, then a
// unique prefix; several matches are ambiguous, none is unknown with the
// closest names. Pure: the lists come from the Catalog.

// Outcome says how a query resolved.
type Outcome int

const (
	// Unknown: no name matches; Matches holds up to MaxSuggestions
	// closest names.
	Unknown Outcome = iota
	// Resolved: ID is the one.
	Resolved
	// Ambiguous: several names match; Matches lists them all.
	Ambiguous
)

func (o Outcome) String() string {
	switch o {
	case Resolved:
		return "resolved"
	case Ambiguous:
		return "ambiguous"
	}
	return "unknown"
}

// MaxSuggestions bounds the closest names of an Unknown resolution.
const MaxSuggestions = 3

// Match is a package or cluster a query matched or came close to.
type Match struct {
	ID   int64
	Name string
}

// Resolution is what a query resolved to.
type Resolution struct {
	Outcome Outcome
	// ID is the package or cluster when Resolved.
	ID int64
	// Name is its name when the list holds it; "" for an id the list does
	// not hold (the id still goes through: the list may be stale).
	Name string
	// ByID reports a query that was an id.
	ByID bool
	// Matches are, when Ambiguous, every match sorted by name then id;
	// when Unknown, the closest names, closest first.
	Matches []Match
}

// Listed reports a Resolved query whose package or cluster is in the list.
func (r Resolution) Listed() bool { return r.Outcome == Resolved && r.Name != "" }

// ClusterResolution is a Resolution of a cluster and whether it can take
// a job.
type ClusterResolution struct {
	Resolution
	// Status is the cluster's status in the list; "" when not listed.
	Status xplenty.ClusterStatus
	// Usable is Status.Usable(), and true for an id the list does not
	// hold: only a known end state refuses a run.
	Usable bool
}

// ResolvePackage resolves query among pkgs. An archived package matches
// only when named exactly (any case) or by id: a prefix never reaches it,
// and it is never suggested.
func ResolvePackage(pkgs []xplenty.Package, query string) Resolution {
	archived := func(p xplenty.Package) bool { return p.Status == xplenty.PackageArchived }
	r, _ := resolve(pkgs, query, func(p xplenty.Package) Match { return Match{p.ID, p.Name} }, archived, archived)
	return r
}

// ResolveCluster resolves query among clusters, every status alike, and
// says whether the cluster can take a job; only when a terminated cluster
// and another share the exact name does the other win (a cluster made
// again under its old name: Xplenty keeps terminated ones in its list).
func ResolveCluster(clusters []xplenty.Cluster, query string) ClusterResolution {
	r, i := resolve(clusters, query,
		func(c xplenty.Cluster) Match { return Match{c.ID, c.Name} },
		func(xplenty.Cluster) bool { return false },
		func(c xplenty.Cluster) bool { return c.Status == xplenty.ClusterTerminated })
	cr := ClusterResolution{Resolution: r, Usable: r.Outcome == Resolved}
	if i >= 0 {
		cr.Status = clusters[i].Status
		cr.Usable = clusters[i].Status.Usable()
	}
	return cr
}

// AvailableClusters returns the clusters that can take a job, sorted by
// name (any case), then id.
func AvailableClusters(clusters []xplenty.Cluster) []xplenty.Cluster {
	var out []xplenty.Cluster
	for _, c := range clusters {
		if c.Status.Usable() {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b xplenty.Cluster) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// resolve resolves query among items; hidden items match only exactly,
// and outranked ones lose an exact name to another item of that name. It
// also returns the index of the resolved item in items, -1 when none.
func resolve[T any](items []T, query string, match func(T) Match, hidden, outranked func(T) bool) (Resolution, int) {
	q := strings.TrimSpace(query)
	if id, ok := parseID(q); ok {
		r := Resolution{Outcome: Resolved, ID: id, ByID: true}
		for i, it := range items {
			if m := match(it); m.ID == id {
				r.Name = m.Name
				return r, i
			}
		}
		return r, -1
	}
	if q == "" || isDigits(q) { // empty, or not a usable id (0, too large)
		return Resolution{Outcome: Unknown}, -1
	}
	lq := strings.ToLower(q)
	var exact, shown, prefix []int
	for i, it := range items {
		name := strings.ToLower(match(it).Name)
		switch {
		case name == lq:
			exact = append(exact, i)
			if !outranked(it) {
				shown = append(shown, i)
			}
		case !hidden(it) && strings.HasPrefix(name, lq):
			prefix = append(prefix, i)
		}
	}
	if len(exact) > 1 && len(shown) > 0 {
		exact = shown // a name wins over an outranked one of the same name
	}
	for _, set := range [][]int{exact, prefix} {
		switch {
		case len(set) == 1:
			m := match(items[set[0]])
			return Resolution{Outcome: Resolved, ID: m.ID, Name: m.Name}, set[0]
		case len(set) > 1:
			ms := make([]Match, len(set))
			for k, i := range set {
				ms[k] = match(items[i])
			}
			slices.SortFunc(ms, func(a, b Match) int {
				return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
			})
			return Resolution{Outcome: Ambiguous, Matches: ms}, -1
		}
	}
	return Resolution{Outcome: Unknown, Matches: closest(items, lq, match, hidden)}, -1
}

// closest returns up to MaxSuggestions visible names near lq: by edit
// distance to the whole name or, from 4 letters, to its start (a mistyped
// prefix), within max(2, len(lq)/3) edits, closest first, then by name.
func closest[T any](items []T, lq string, match func(T) Match, hidden func(T) bool) []Match {
	type near struct {
		m Match
		d int
	}
	limit := max(2, len(lq)/3)
	var ns []near
	for _, it := range items {
		if hidden(it) {
			continue
		}
		m := match(it)
		name := strings.ToLower(m.Name)
		d := nearest.Distance(lq, name)
		if len(lq) >= 4 && len(name) > len(lq) {
			d = min(d, nearest.Distance(lq, name[:len(lq)]))
		}
		if d <= limit {
			ns = append(ns, near{m, d})
		}
	}
	slices.SortFunc(ns, func(a, b near) int {
		return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(strings.ToLower(a.m.Name), strings.ToLower(b.m.Name)), cmp.Compare(a.m.ID, b.m.ID))
	})
	var out []Match
	for _, n := range ns[:min(len(ns), MaxSuggestions)] {
		out = append(out, n.m)
	}
	return out
}

// parseID reads a query of digits only as a positive id.
func parseID(q string) (int64, bool) {
	if !isDigits(q) {
		return 0, false
	}
	id, err := strconv.ParseInt(q, 10, 64)
	return id, err == nil && id > 0
}

func isDigits(q string) bool { return q != "" && strings.TrimLeft(q, "0123456789") == "" }
