package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runjob/runjob/bot/catalog"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
)

// maxListLines bounds the lines of `/runjob packages` and `/runjob clusters`.
const maxListLines = 20

// packages answers `/runjob packages [words]`: the account's packages whose
// name or description holds every word, active ones first, then by name.
func (b *Bot) packages(ctx context.Context, words []string) result {
	if b.cfg.Catalog == nil {
		return noCatalog("package")
	}
	return catalogList(b, "package", b.cfg.Catalog.Packages(ctx), words, listing[xplenty.Package]{
		texts: func(p xplenty.Package) (string, string) { return p.Name, p.Description },
		order: func(a, c xplenty.Package) int {
			return cmp.Or(cmp.Compare(archivedRank(a), archivedRank(c)),
				cmp.Compare(strings.ToLower(a.Name), strings.ToLower(c.Name)), cmp.Compare(a.ID, c.ID))
		},
		line: func(p xplenty.Package) string {
			line := fmt.Sprintf("• %s (%d)", nameLink(p.Name, p.HTMLURL), p.ID)
			if p.Status == xplenty.PackageArchived {
				line += " · archived"
			}
			if d := oneLine(p.Description, 80); d != "" {
				line += " · " + render.Escape(d)
			}
			return line
		},
	})
}

// clusters answers `/runjob clusters [words]`: the account's clusters whose
// name or description holds every word, those that can take a job first.
func (b *Bot) clusters(ctx context.Context, words []string) result {
	if b.cfg.Catalog == nil {
		return noCatalog("cluster")
	}
	return catalogList(b, "cluster", b.cfg.Catalog.Clusters(ctx), words, listing[xplenty.Cluster]{
		texts: func(c xplenty.Cluster) (string, string) { return c.Name, c.Description },
		order: func(a, c xplenty.Cluster) int {
			return cmp.Or(cmp.Compare(usableRank(a), usableRank(c)),
				cmp.Compare(strings.ToLower(a.Name), strings.ToLower(c.Name)), cmp.Compare(a.ID, c.ID))
		},
		line: func(c xplenty.Cluster) string {
			line := fmt.Sprintf("• %s (%d) · %s", nameLink(c.Name, c.HTMLURL), c.ID, statusWords(c.Status))
			if c.RunningJobsCount > 0 {
				line += fmt.Sprintf(" · %d running", c.RunningJobsCount)
			}
			if c.Type != "" {
				line += " · " + render.Escape(oneLine(c.Type, 20))
			}
			return line
		},
	})
}

// listing is how the packages or clusters answer reads its items: the
// texts the words are looked for in, the order, and an item's line.
type listing[T any] struct {
	texts func(T) (name, description string)
	order func(a, c T) int
	line  func(T) string
}

func noCatalog(kind string) result {
	return end(Error).say("I do not know the account's " + kind + "s: the bot runs without the catalog.")
}

// catalogList answers packages or clusters from the catalog's list l.
func catalogList[T any](b *Bot, kind string, l catalog.List[T], words []string, how listing[T]) result {
	if !l.Known() {
		b.log.Warn("list "+kind+"s", "err", l.Err)
		return end(Error).say("I cannot list the " + kind + "s right now: Xplenty could not be reached. Please try again in a minute.")
	}
	var hits []T
	for _, it := range l.Items {
		if name, desc := how.texts(it); matchesAll(words, name, desc) {
			hits = append(hits, it)
		}
	}
	slices.SortFunc(hits, how.order)
	lines := make([]string, 0, min(len(hits), maxListLines))
	for _, it := range hits[:min(len(hits), maxListLines)] {
		lines = append(lines, how.line(it))
	}
	return end(List).say(listText(kind, words, lines, len(hits), l.Fetched, l.Stale, l.Truncated, time.Now()))
}

func archivedRank(p xplenty.Package) int {
	if p.Status == xplenty.PackageArchived {
		return 1
	}
	return 0
}

func usableRank(c xplenty.Cluster) int {
	if c.Status.Usable() {
		return 0
	}
	return 1
}

// listText writes the answer of packages or clusters around its lines.
func listText(kind string, words, lines []string, hits int, fetched time.Time, stale, truncated bool, now time.Time) string {
	var sb strings.Builder
	filter := ""
	if len(words) > 0 {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "`" + codeText(w) + "`"
		}
		filter = " matching " + strings.Join(quoted, " ")
	}
	switch {
	case hits == 0:
		fmt.Fprintf(&sb, "No %s%s.", kind, filter)
		if len(words) > 0 {
			fmt.Fprintf(&sb, " `/runjob %ss` lists them all.", kind)
		}
	case hits > len(lines):
		fmt.Fprintf(&sb, "*%d %ss*%s; the first %d:\n%s\nAdd words to narrow the list, like `/runjob %ss orders`.",
			hits, kind, filter, len(lines), strings.Join(lines, "\n"), kind)
	default:
		noun := kind + "s"
		if hits == 1 {
			noun = kind
		}
		fmt.Fprintf(&sb, "*%d %s*%s:\n%s", hits, noun, filter, strings.Join(lines, "\n"))
	}
	if stale {
		fmt.Fprintf(&sb, "\n_As Xplenty listed them %s ago; it could not be reached since._", roughAge(now.Sub(fetched)))
	}
	if truncated {
		fmt.Fprintf(&sb, "\n_The account has more %ss than I keep; these are the first pages._", kind)
	}
	return sb.String()
}

// matchesAll reports whether every word is in one of the texts, in any case.
func matchesAll(words []string, texts ...string) bool {
	for _, w := range words {
		lw := strings.ToLower(w)
		if !slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(strings.ToLower(t), lw) }) {
			return false
		}
	}
	return true
}

// nameLink writes a name from Xplenty, linked to its page when there is one.
// A | in the name becomes ∣ (U+2223) in a link's label, as on the cards, so
// that no reading of the link takes it for the end of the target.
func nameLink(name, url string) string {
	label := render.Escape(oneLine(name, 60))
	if link := render.Link(url, strings.ReplaceAll(label, "|", "∣")); link != "" {
		return "*" + link + "*"
	}
	return "*" + label + "*"
}

// oneLine flattens s to one line of at most n characters, without control
// characters or bidi overrides (text from Xplenty or a person).
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(render.OneLine(s)), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

// statusWords writes a cluster's status from Xplenty for an answer in
// mrkdwn: "pending terminate"; an unknown one is escaped and capped.
func statusWords(s xplenty.ClusterStatus) string {
	return render.Escape(oneLine(strings.ReplaceAll(string(s), "_", " "), 30))
}

func roughAge(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return "a minute"
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
	return fmt.Sprintf("%d hours", int(d.Hours()))
}
