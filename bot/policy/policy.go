package policy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/runjob/runjob/commands"
)

// Bounds of the file and of what it holds.
const (
	// MaxFileSize is the largest policy file Load reads. A hand-written
	// policy is a few kilobytes; the bound keeps a wrong path (a log file,
	// a device) from being read whole.
	MaxFileSize = 1 << 20

	// MaxNameLen, MaxValueLen and MaxVariables are the /runjob grammar's
	// bounds (commands.MaxNameLen, MaxValueLen and MaxVariables), so a
	// preset never holds a name or value a user could not type.
	MaxNameLen   = 64
	MaxValueLen  = 1000
	MaxVariables = 50

	// DefaultConfirmWithin is how long a confirmation stays valid when the
	// file does not say. MinConfirmWithin leaves time to read the question;
	// MaxConfirmWithin keeps an old, forgotten confirmation from starting a
	// job long after the runner moved on.
	DefaultConfirmWithin = 2 * time.Minute
	MinConfirmWithin     = 10 * time.Second
	MaxConfirmWithin     = 15 * time.Minute

	// MaxMaxRuntime bounds a preset's max_runtime: a week.
	MaxMaxRuntime = 7 * 24 * time.Hour
)

// Policy is a parsed policy file. The zero value is not useful; a nil
// *Policy is "no policy" (see the package comment).
type Policy struct {
	presets       map[string]Preset // by lower-case name
	sorted        []string          // lower-case preset names, sorted
	rules         []rule
	protClusters  idSet
	protPackages  idSet
	confirmWithin time.Duration
	secretPattern string   // as written; "" when the file gives none
	secretNames   []string // listed in the file, sorted, deduplicated
	secrets       *Secrets
}

// Preset is a named run: /runjob nightly runs ClusterID/PackageID with the
// preset's variables as defaults.
type Preset struct {
	// Name is the name as written in the file.
	Name        string
	Description string
	ClusterID   int64
	PackageID   int64
	// ClusterName and PackageName are the names the file gives instead of
	// ids (the ids are then 0), resolved through the catalog when the
	// preset runs; "" when the file gives ids.
	ClusterName string
	PackageName string
	// Variables and DynamicVariables are the defaults; nil when none.
	Variables        map[string]string
	DynamicVariables map[string]string
	// SecretVariables are the names the preset marks secret, sorted.
	SecretVariables []string
	// MaxRuntime is how long a run of the preset may go before the bot
	// notes in its thread that it is slow; 0 leaves it to the runtimes of
	// the package's past runs.
	MaxRuntime time.Duration
}

// Apply returns the variables and dynamic variables of a run of the preset
// with the user's vars and dyn. A name the user sets, in either map,
// replaces the preset's default of that name in both, so RUN_DATE=2026-11-01
// overrides a dynamic RUN_DATE default instead of sending both. Both results
// are nil when empty.
func (p Preset) Apply(vars, dyn map[string]string) (variables, dynamic map[string]string) {
	defVars, defDyn := maps.Clone(p.Variables), maps.Clone(p.DynamicVariables)
	for name := range vars {
		delete(defDyn, name)
	}
	for name := range dyn {
		delete(defVars, name)
	}
	return Merge(defVars, vars), Merge(defDyn, dyn)
}

func (p Preset) clone() Preset {
	p.Variables = maps.Clone(p.Variables)
	p.DynamicVariables = maps.Clone(p.DynamicVariables)
	p.SecretVariables = slices.Clone(p.SecretVariables)
	return p
}

// Subject is who asks, and where.
type Subject struct {
	User    string
	Channel string
	// Groups are the user's Slack user group ids. The bot needs to fill
	// them only when UsesGroups reports true.
	Groups []string
}

// Decision is the answer to "may this subject start this run?".
type Decision struct {
	Allowed bool
	// Confirm is set on an allowed run whose cluster or package is
	// protected: the runner must confirm before the job starts.
	Confirm bool
	// Rule names the rule that allowed the run; "" when the policy has no
	// rules.
	Rule string
	// Reason is for the user: why the run is denied ("no rule lets you run
	// package 434 on cluster 52 in this channel"), or why it needs a
	// confirmation ("cluster 52 is protected"); "" otherwise. It holds the
	// preset name as given in the run, so the bot escapes it like any
	// user text.
	Reason string
}

// Error is a problem with the policy file. Line is 0 when the problem is not
// on a line (the file cannot be read, say).
type Error struct {
	File string
	Line int
	Msg  string
	// Err is the underlying error, when there is one (a failed read).
	Err error
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.File != "":
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	}
	return e.Msg
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Load reads and parses the policy file at path. Errors are *Error.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		// The path is already in File; say only what went wrong.
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: "cannot read the policy file: " + msg, Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read the policy file: " + err.Error(), Err: err}
	}
	if len(data) > MaxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("the policy file is larger than %d bytes", MaxFileSize)}
	}
	return Parse(path, data)
}

// Parse parses a policy file's contents; filename is used in errors only.
// Errors are *Error.
func Parse(filename string, data []byte) (*Policy, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: filename, Msg: fmt.Sprintf("the policy file is larger than %d bytes", MaxFileSize)}
	}
	return parse(filename, data)
}

// Preset returns the preset called name, compared case-insensitively.
func (p *Policy) Preset(name string) (Preset, bool) {
	if p == nil {
		return Preset{}, false
	}
	pr, ok := p.presets[strings.ToLower(name)]
	if !ok {
		return Preset{}, false
	}
	return pr.clone(), true
}

// Presets returns every preset, sorted by name (case-insensitively).
func (p *Policy) Presets() []Preset {
	if p == nil {
		return nil
	}
	out := make([]Preset, 0, len(p.sorted))
	for _, key := range p.sorted {
		out = append(out, p.presets[key].clone())
	}
	return out
}

// PresetsFor returns the presets s may run, sorted by name, for /runjob
// help. Presets on protected clusters or packages are included: they run
// after a confirmation.
func (p *Policy) PresetsFor(s Subject) []Preset {
	if p == nil {
		return nil
	}
	var out []Preset
	for _, key := range p.sorted {
		pr := p.presets[key]
		if p.Decide(s, commands.Run{Preset: pr.Name}).Allowed {
			out = append(out, pr.clone())
		}
	}
	return out
}

// UsesGroups reports whether some rule names Slack user groups, that is,
// whether Decide needs Subject.Groups.
func (p *Policy) UsesGroups() bool { return len(p.Groups()) > 0 }

// Groups returns the user group ids the rules name, sorted: the groups the
// bot must resolve to decide.
func (p *Policy) Groups() []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, r := range p.rules {
		for g := range r.groups {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	slices.Sort(out)
	return out
}

// HasRules reports whether the file has rules, that is, whether Decide can
// deny anything.
func (p *Policy) HasRules() bool { return p != nil && len(p.rules) > 0 }

// ConfirmWithin is how long a confirmation stays valid.
func (p *Policy) ConfirmWithin() time.Duration {
	if p == nil || p.confirmWithin == 0 {
		return DefaultConfirmWithin
	}
	return p.confirmWithin
}

// SecretVariables returns the variable names the file lists as secret, at
// the top level and in every preset, sorted and deduplicated. A name a
// preset lists is secret in every run: hiding too much is the safe side.
func (p *Policy) SecretVariables() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.secretNames)
}

// SecretPattern returns the file's secret_pattern, or DefaultSecretPattern.
func (p *Policy) SecretPattern() string {
	if p == nil || p.secretPattern == "" {
		return DefaultSecretPattern
	}
	return p.secretPattern
}

// Secrets returns the file's secret pattern and listed names, compiled:
// NewSecrets(p.SecretPattern(), p.SecretVariables()).
func (p *Policy) Secrets() *Secrets {
	if p == nil {
		return defaultSecrets
	}
	return p.secrets
}
