package commands

import "time"

// Bounds on what a command may hold. They are part of the grammar: Usage
// states them and Parse enforces them.
const (
	// MaxTextLen is the longest run, in characters of its canonical form.
	// Slack's clients limit a message, slash command included, to 4,000
	// characters, so a command typed in Slack fits.
	MaxTextLen = 4000
	// MaxVariables is the most variables and dynamic variables, together,
	// that one run may set.
	MaxVariables = 50
	// MaxValueLen is the longest value or expression, in characters.
	MaxValueLen = 1000
	// MaxNameLen is the longest variable or preset name, in characters.
	MaxNameLen = 64
	// MaxTargetNameLen is the longest package or cluster name, in
	// characters (Xplenty's names are at most 255).
	MaxTargetNameLen = 255
	// MaxFilterWords is the most words packages and clusters filter by.
	MaxFilterWords = 10
)

// maxWireBytes bounds the raw text before any work is done on it. Slack's
// escaping and link markup can make 4,000 typed characters several times
// longer on the wire; 16 bytes a character is far more than any of it.
const maxWireBytes = 16 * MaxTextLen

// Command is the result of parsing: one of Form, Help, Run, Status, Stop,
// Rerun, List, Packages, Clusters or Notify, as values.
type Command interface{ isCommand() }

// Help asks for the usage text.
type Help struct{}

// Form asks for the run form (what empty text means too).
type Form struct{}

// Packages asks for the account's packages whose names hold every word
// (all of them when Words is empty).
type Packages struct{ Words []string }

// Clusters asks for the account's clusters, filtered like Packages.
type Clusters struct{ Words []string }

// Run is a run's parameters: what the command asked for, and what the bot
// adds on the way (the secret names the policy and the preset declare, the
// job a re-run repeats). It is the one shape of a run, carried unchanged
// from the parse through the policy, the job's record and its card to the
// run request.
type Run struct {
	// Preset is the preset name as typed, "" when the cluster and package
	// are given. Parse leaves ClusterID and PackageID 0 with a preset; the
	// caller may fill them in when it resolves it, and Render still writes
	// the preset, since running the preset again is what the user asked.
	Preset    string
	ClusterID int64
	PackageID int64
	// PackageName and ClusterName name the package and the cluster. From
	// Parse, each is the name typed instead of an id (package=orders_daily),
	// with the id left 0 for the bot to resolve; once resolved, each is the
	// name the catalog knows for the id, "" when it knows none. They label
	// the run; the ids are what runs.
	PackageName string
	ClusterName string
	// PackageURL is the package's page for people (the catalog's
	// html_url), "" when unknown. Parse leaves it empty.
	PackageURL string
	// Variables are the job's variables, nil when none.
	Variables map[string]string
	// DynamicVariables are the job's dynamic variables (Xplenty
	// expressions), nil when none.
	DynamicVariables map[string]string
	// SecretNames lists the variables whose values are never shown. Parse
	// leaves it nil: secrecy is the bot's policy, not the grammar's.
	SecretNames []string
	// RerunOf is the job this run repeats, 0 when none. Parse leaves it 0.
	RerunOf int64
	// MaxRuntime is how long a run may go before the bot says it is slow
	// (a preset's max_runtime), 0 for none. Parse leaves it 0 and Render
	// does not write it: it is the bot's policy, not the grammar's.
	MaxRuntime time.Duration
}

// Status asks for the status of a job.
type Status struct{ JobID int64 }

// Stop asks to stop a job.
type Stop struct{ JobID int64 }

// Rerun asks to run a job again with the same parameters, like the card's
// Re-run button.
type Rerun struct{ JobID int64 }

// List asks for the recent jobs started from the channel.
type List struct{}

// NotifyLevel is how much a channel hears of its jobs' ends, or which of
// them also go to the channel itself (broadcast).
type NotifyLevel string

// The notify levels, as typed.
const (
	NotifyAll      NotifyLevel = "all"      // every reply and note
	NotifyFailures NotifyLevel = "failures" // failures and the watchdog's notes only
	NotifyOff      NotifyLevel = "off"      // none
)

// Mention says whether the replies in a channel mention the person they
// are about.
type Mention string

// The mention settings, as typed.
const (
	MentionOn  Mention = "on"
	MentionOff Mention = "off"
)

// Notify asks for the channel's notification settings when it sets
// nothing, and changes the settings it sets otherwise; a field left ""
// stays as it is.
type Notify struct {
	// Level is NotifyAll, NotifyFailures or NotifyOff (a bare word).
	Level NotifyLevel
	// Broadcast is NotifyFailures or NotifyOff (broadcast=…).
	Broadcast NotifyLevel
	// Mention is MentionOn or MentionOff (mention=…).
	Mention Mention
}

// Changes reports whether n changes a setting (else it asks to see them).
func (n Notify) Changes() bool { return n != Notify{} }

func (Help) isCommand()     {}
func (Form) isCommand()     {}
func (Run) isCommand()      {}
func (Status) isCommand()   {}
func (Stop) isCommand()     {}
func (Rerun) isCommand()    {}
func (List) isCommand()     {}
func (Packages) isCommand() {}
func (Clusters) isCommand() {}
func (Notify) isCommand()   {}

// The sub-command words, lower case.
const (
	wordHelp     = "help"
	wordStatus   = "status"
	wordStop     = "stop"
	wordRerun    = "rerun"
	wordList     = "list"
	wordForm     = "form"
	wordPackages = "packages"
	wordClusters = "clusters"
	wordNotify   = "notify"
)

// The keys of a run, lower case.
const (
	keyCluster = "cluster"
	keyPackage = "package"
)

// reserved reports whether a bare first word, in any case, is not free to be
// a preset name.
func reserved(word string) bool {
	switch lowerASCII(word) {
	case wordHelp, wordStatus, wordStop, wordRerun, wordList, wordForm, wordPackages, wordClusters,
		wordNotify, keyCluster, keyPackage:
		return true
	}
	return false
}
