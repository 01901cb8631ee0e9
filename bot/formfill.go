package bot

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
)

// lineName reads the variable name a line of the variables box sets.
var lineName = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:?=`)

// typedNames returns the names the lines of text set, and whether one of
// them gives a secret variable a value (not the mask of a kept one).
func (b *Bot) typedNames(text string) (names map[string]bool, secretTyped bool) {
	names = map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		m := lineName.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		names[m[1]] = true
		value := strings.TrimSpace(line[len(m[0]):])
		if b.secrets.IsSecret(m[1]) && value != render.Mask {
			secretTyped = true
		}
	}
	return names, secretTyped
}

// fillDefaults adds a package's declared variables that text does not set,
// with their defaults, one a line after the person's lines (or in place of
// them when untouched: the box holds what the bot last wrote). A default
// written like an expression (a call, or $OTHER) is a dynamic variable.
// Secret variables are never filled (their default applies unless one is
// typed). It returns the box's text and a note (mrkdwn) for under it; leave
// is true when the person typed a secret value in the box: then the form
// must be left as it is, not redrawn, since a redrawn form would carry the
// value back through Slack.
func (b *Bot) fillDefaults(text string, untouched bool, pkgName string, declared map[string]string) (filled, note string, leave bool) {
	base := text
	if untouched {
		base = ""
	}
	names, secretTyped := b.typedNames(base)
	if secretTyped {
		return text, "", true
	}
	var add []string
	var secret []string
	for _, name := range sortedKeys(declared) {
		switch {
		case names[name]:
		case b.secrets.IsSecret(name):
			secret = append(secret, name)
		default:
			v := declared[name]
			if expressionLike(v) {
				add = append(add, commands.VariableLines(nil, map[string]string{name: v}, nil, ""))
			} else {
				add = append(add, commands.VariableLines(map[string]string{name: v}, nil, nil, ""))
			}
		}
	}
	pkg := "*" + render.Escape(oneLine(pkgName, 60)) + "*"
	if len(declared) == 0 {
		return text, pkg + " declares no variables.", false
	}
	note = pkg + " declares " + render.Escape(render.OneLine(strings.Join(sortedKeys(declared), ", "))) + "."
	if len(secret) > 0 {
		note += " Secret ones are not filled in (" + render.Escape(render.OneLine(strings.Join(secret, ", "))) + "): type them, or the package's default applies."
	}
	filled = strings.TrimRight(base, "\n")
	if len(add) > 0 {
		if filled != "" {
			filled += "\n"
		}
		filled += strings.Join(add, "\n")
	}
	if len([]rune(filled)) > commands.MaxFormTextLen {
		return text, note + " Add the ones you need to the box.", false
	}
	return filled, note, false
}

// expressionLike reports whether a declared default reads as an Xplenty
// expression: a function call or a reference to another variable.
func expressionLike(v string) bool {
	v = strings.TrimSpace(v)
	return strings.HasPrefix(v, "$") || strings.HasSuffix(v, ")") && strings.Contains(v, "(")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// clusterChoices are the cluster picker's options: every cluster but the
// terminated ones, those that can take a job first, each labelled with
// its status; nil when the catalog does not know the clusters (the picker
// then searches as one types).
func (b *Bot) clusterChoices(ctx context.Context) []render.Option {
	if b.cfg.Catalog == nil {
		return nil
	}
	l := b.cfg.Catalog.Clusters(ctx)
	if !l.Known() {
		return nil
	}
	cs := orderClusters(l.Items, "")
	out := make([]render.Option, 0, len(cs))
	for _, c := range cs {
		out = append(out, clusterOption(c))
	}
	return out
}

func clusterOption(c xplenty.Cluster) render.Option {
	return render.IDOption(c.ID, c.Name, strings.ReplaceAll(string(c.Status), "_", " "))
}

// orderClusters returns the clusters that are not terminated and match
// query (any case, in the name, or the id's start), those that can take a
// job first, then by name.
func orderClusters(all []xplenty.Cluster, query string) []xplenty.Cluster {
	var out []xplenty.Cluster
	for _, c := range all {
		if c.Status != xplenty.ClusterTerminated && matchesQuery(query, c.ID, c.Name) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, c xplenty.Cluster) int {
		return cmp.Or(cmp.Compare(usableRank(a), usableRank(c)),
			cmp.Compare(strings.ToLower(a.Name), strings.ToLower(c.Name)), cmp.Compare(a.ID, c.ID))
	})
	return out
}
