package policy

import (
	"fmt"
	"strings"

	"github.com/runjob/runjob/bot/nearest"
)

// "Did you mean": the known word nearest a misspelt key or preset name.

// suggest returns ` (did you mean "x"?)` for the known word nearest word, or
// "; "+otherwise when none is near.
func suggest(word string, known []string, otherwise string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	best, bestDist := "", 3 // further than 2 edits is a different word
	for _, k := range known {
		if d := nearest.Distance(norm(word), norm(k)); d < bestDist && d <= len(k)/2 {
			best, bestDist = k, d
		}
	}
	switch {
	case best != "":
		return fmt.Sprintf(" (did you mean %q?)", best)
	case otherwise != "":
		return "; " + otherwise
	}
	return ""
}
