package policy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// DefaultSecretPattern makes a variable secret when its name contains one of
// these words, in any case. It is deliberately broad: KEY also matches
// MONKEY and PASS matches PASSENGER. Hiding a harmless value costs a
// "(secret)" on a card; showing a password cannot be undone.
const DefaultSecretPattern = `(?i)(PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|PASS)`

// defaultSecrets is immutable once built, so sharing it is safe.
var defaultSecrets = &Secrets{pattern: regexp.MustCompile(DefaultSecretPattern)}

// Secrets tells secret variable names from the others: a name is secret when
// the pattern matches it anywhere, or when it is listed (compared
// case-insensitively). A *Secrets is immutable and safe for concurrent use;
// a nil *Secrets uses DefaultSecretPattern.
type Secrets struct {
	pattern *regexp.Regexp
	listed  map[string]bool // upper case
}

// NewSecrets compiles pattern (Go RE2 syntax; "" means
// DefaultSecretPattern) and takes the listed names.
func NewSecrets(pattern string, listed []string) (*Secrets, error) {
	if pattern == "" {
		pattern = DefaultSecretPattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("secret pattern: %w", err)
	}
	s := &Secrets{pattern: re}
	for _, name := range listed {
		if s.listed == nil {
			s.listed = make(map[string]bool, len(listed))
		}
		s.listed[strings.ToUpper(name)] = true
	}
	return s, nil
}

// IsSecret reports whether the variable called name is secret.
func (s *Secrets) IsSecret(name string) bool {
	if s == nil {
		s = defaultSecrets
	}
	return s.listed[strings.ToUpper(name)] || s.pattern.MatchString(name)
}

// Names returns the secret names among the keys of vars, sorted and
// deduplicated; nil when there are none.
func (s *Secrets) Names(vars ...map[string]string) []string {
	var out []string
	for _, m := range vars {
		for name := range m {
			if s.IsSecret(name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Merge returns defaults with overrides laid over them: a user-given variable
// replaces the preset's default of the same name. It returns a new map, nil
// when both are empty, and changes neither argument.
func Merge(defaults, overrides map[string]string) map[string]string {
	if len(defaults) == 0 && len(overrides) == 0 {
		return nil
	}
	out := make(map[string]string, len(defaults)+len(overrides))
	maps.Copy(out, defaults)
	maps.Copy(out, overrides)
	return out
}
