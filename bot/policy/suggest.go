package policy

import (
	"fmt"
	"strings"
)

// "Did you mean": the known word nearest a misspelt key or preset name.

// suggest returns ` (did you mean "x"?)` for the known word nearest word, or
// "; "+otherwise when none is near.
func suggest(word string, known []string, otherwise string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	best, bestDist := "", 3 // further than 2 edits is a different word
	for _, k := range known {
		if d := distance(norm(word), norm(k)); d < bestDist && d <= len(k)/2 {
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

// distance is the Levenshtein distance between a and b, in bytes (keys and
// names are ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
