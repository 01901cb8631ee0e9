package render

import (
	"strconv"
	"strings"

	"github.com/runjob/runjob/commands"
)

// maxName caps a package or cluster name as shown. Xplenty allows 255
// characters; the start of a name is enough to recognise it, and the cap
// keeps a card's title on one line.
const maxName = 80

// Target names what a run runs, in mrkdwn: "orders_daily (434) on prod-etl
// (52)", the package linked to its page (PackageURL) when that is an
// http(s) URL. A name the run does not know is replaced by the id alone, as
// the bot wrote before it knew names: "package 434 on cluster 52",
// "orders_daily (434) on cluster 52". Names are Xplenty's (or the user's)
// text and are shown as such: scrubbed of the run's secret values, on one
// line, escaped, capped at maxName with "…".
func Target(r commands.Run) string { return runRenderer(r).target(r, true, "package") }

// TargetText is Target without the link, for a message's `text` fallback:
// escaped like every fallback, since Slack shows that text too.
func TargetText(r commands.Run) string { return runRenderer(r).target(r, false, "package") }

// runRenderer is the renderer for a run's own text.
func runRenderer(r commands.Run) renderer {
	return newRenderer(r.Variables, r.DynamicVariables, r.SecretNames)
}

// target is Target, linked or not; pkgWord ("package" or "Package", when
// the phrase starts a sentence) stands before an unnamed package's id.
func (rd renderer) target(r commands.Run, linked bool, pkgWord string) string {
	return rd.packageLabel(r, linked, pkgWord+" ") + " on " + rd.clusterLabel(r, "cluster ")
}

// packageLabel is the run's package: "orders_daily (434)", or, when its
// name is unknown, word and the id ("package 434"; "434" when word is "").
// When linked and the run has a usable PackageURL, the name (or the id) is
// a link to the package's page; the id beside a name is not.
func (rd renderer) packageLabel(r commands.Run, linked bool, word string) string {
	name, id := rd.name(r.PackageName), idText(r.PackageID)
	label, after := name, ""
	switch {
	case name == "":
		label = word + id
	case r.PackageID != 0:
		after = " (" + id + ")"
	}
	if target, ok := linkTarget(r.PackageURL); linked && ok {
		label = "<" + target + "|" + linkLabel(label) + ">"
	}
	return label + after
}

// clusterLabel is the run's cluster: "prod-etl (52)", or, when its name is
// unknown, word and the id ("cluster 52"; "52" when word is "").
func (rd renderer) clusterLabel(r commands.Run, word string) string {
	name, id := rd.name(r.ClusterName), idText(r.ClusterID)
	switch {
	case name == "":
		return word + id
	case r.ClusterID != 0:
		return name + " (" + id + ")"
	}
	return name
}

// name renders a package's or a cluster's name: scrubbed, on one line,
// without backticks (a name often sits in a bold title, where one would
// open code), escaped and capped; "" when nothing is left to show.
func (rd renderer) name(s string) string {
	s = strings.TrimSpace(rd.clean(s, func(s string) string { return noBackticks(oneLine(s)) }))
	if s == "" {
		return ""
	}
	return clip(s, maxName)
}

// linkLabel keeps escaped text inside the label of a link <url|label>: it
// holds no < or > (escaped already), and | is swapped for ∣ (U+2223), which
// looks the same, so that no reading of the link can take a | in a name
// for the end of the target.
func linkLabel(escaped string) string { return strings.ReplaceAll(escaped, "|", "∣") }

func idText(id int64) string { return strconv.FormatInt(id, 10) }
