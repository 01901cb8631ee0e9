// Package policy decides who may run what. A bot holding an Xplenty API key
// can start any package on any cluster and spend real money; the policy file
// (RUNJOB_POLICY=path) narrows that down: named presets, rules over users,
// Slack user groups and channels, clusters and packages that ask for a
// confirmation first, and which variables are secret.
//
// The package is pure: Load reads the file, and nothing else does I/O. It
// never calls Slack. The bot resolves a user's groups (only when UsesGroups
// says a rule names some), asks Decide, and shows the confirmation when the
// Decision says so. A *Policy is immutable and safe for concurrent use. A
// nil *Policy is "no policy": every run is allowed without confirmation,
// there are no presets and no listed secrets, and secret names follow
// DefaultSecretPattern.
//
// # The file
//
// The file is YAML; testdata/example.yaml is a complete, commented example.
// Every key is optional and an empty file is an empty policy (everything
// allowed). Unknown keys are errors, so a typo cannot silently drop a rule.
//
//	secret_pattern: '(?i)(PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|PASS)'
//	secret_variables: [DB_URL]
//	presets:
//	  nightly:
//	    description: Nightly load of the orders warehouse
//	    cluster: 52
//	    package: 434
//	    variables: {MODE: full}
//	    dynamic_variables: {RUN_DATE: "CurrentTime()"}
//	    secret_variables: [SFTP_PASS]
//	rules:
//	  - name: data-team
//	    users: [U012AB3CD]
//	    groups: [S0DATATEAM]
//	    channels: [C012AB3CD]
//	    presets: [nightly]
//	    packages: ["*"]
//	    clusters: [52, 53]
//	protected:
//	  clusters: [52]
//	  packages: [434]
//	  confirm_within: 2m
//
// Top-level keys:
//
//   - secret_pattern: a Go regular expression (RE2 syntax) matched anywhere
//     in a variable's name; a match makes the variable secret. Default
//     DefaultSecretPattern. Variable names are never empty, so '^$' turns the
//     pattern off and leaves only the listed names.
//   - secret_variables: variable names that are secret whatever the pattern
//     says, compared case-insensitively.
//   - presets: a mapping from preset name to preset.
//   - rules: a list of rules. When the key is present, a run is allowed only
//     if some rule allows it, so it may not be empty: leave it out to allow
//     everyone.
//   - protected: clusters and packages whose runs need a confirmation.
//
// A preset is what /runjob nightly DATE=2026-11-01 runs. Its name matches
// [A-Za-z][A-Za-z0-9_-]*, has at most MaxNameLen characters, is looked up
// case-insensitively (so two names that differ only in case clash) and is
// none of the words the /runjob grammar reserves (help, status, stop, rerun,
// list, form, packages, clusters, notify, cluster, package). Its keys:
//
//   - description: one line for /runjob help. Optional.
//   - cluster, package: the Xplenty cluster and package ids, positive whole
//     numbers. Required.
//   - variables: NAME: value defaults. Any scalar is taken as written
//     (RATE: 1.50 sends 1.50); an empty value is written "" and a missing one
//     is an error.
//   - dynamic_variables: NAME: expression defaults, Xplenty expressions sent
//     as written; not empty.
//   - secret_variables: names that are secret, as at the top level. The file
//     may hold the value of such a variable; it is never shown.
//
// Variable names match [A-Za-z_][A-Za-z0-9_]*, have at most MaxNameLen
// characters, are not "cluster" or "package" in any case (the grammar reads
// those as keys) and appear in only one of the two maps; values have at most
// MaxValueLen characters and a preset sets at most MaxVariables names. These
// are the bounds of the /runjob grammar, so a preset never holds what a
// user could not type.
//
// A rule has a subject half (who, where) and a target half (what):
//
//   - name: shown in logs and in Decision.Rule; unique. Optional; an
//     unnamed rule is called "rule N", N counting from 1.
//   - users: Slack user ids (U… or W…), or "*" for everyone.
//   - groups: Slack user group ids (S…). "*" is refused here: write
//     users: ["*"] to match everyone.
//   - channels: Slack channel ids (C…, G… or D…), or "*" for every channel
//     (direct messages included).
//   - presets: preset names from this file, or "*" for every preset.
//   - packages, clusters: package and cluster ids, or "*" for any. They go
//     together: a rule that gives one must give the other.
//
// Every rule says who (users, groups or both) and where (channels): access
// is open only where someone wrote "*", so a key left out never stands for
// everyone or everywhere, and a rule without who or without where is an
// error.
//
// Every list may be written as a single value (users: "*"); "*" must be
// quoted, since a bare * starts a YAML alias. In a rule, a list that is given
// may not be empty. Ids are checked for their shape, so a channel name or an
// @handle where an id belongs is caught at start-up.
//
// A preset's max_runtime, a Go duration from 1s to MaxMaxRuntime, is how
// long a run of it may go before the bot notes in the job's thread that it
// is slow.
//
// protected has clusters and packages (ids or "*", as in rules) and
// confirm_within, a Go duration between MinConfirmWithin and
// MaxConfirmWithin (default DefaultConfirmWithin): how long a confirmation
// stays valid.
//
// YAML anchors and aliases may be used to share a list or a mapping; merge
// keys (<<) may not. The file holds one YAML document of at most
// MaxFileSize bytes.
//
// # Decisions
//
// A rule matches a subject when both hold:
//
//   - who: the user is in users (or users has "*"), or one of the user's
//     groups is in groups;
//   - where: the channel is in channels (or channels has "*").
//
// A rule that matches everyone everywhere says so: users: ["*"] and
// channels: ["*"].
//
// A rule allows a target when:
//
//   - for a preset run, the preset's name is in presets (or presets has
//     "*"). That is enough: a preset is a reviewed, named run, so its
//     cluster and package need not be allowed too. Conversely packages and
//     clusters never allow a preset run, because a preset may carry values
//     (secrets, say) the user could not type;
//   - for a raw run (cluster=52 package=434), the package is in packages and
//     the cluster in clusters, "*" matching any.
//
// A rule must allow something: presets, or packages with clusters.
//
// A run is allowed when there are no rules, or when some rule matches the
// subject and allows the target; Decision.Rule names the first such rule.
// Preset names compare without case. Decide does not check that a preset
// exists (presets: ["*"] allows any name): resolving the name is the bot's
// job.
// Stopping or re-running a job is a run of the job's target (its preset if
// it was started from one, else its cluster and package); the bot maps it,
// and judges a job whose preset was since removed, or now names another
// cluster or package, as a raw run of its recorded cluster and package.
// The env allowlists (ALLOWED_USERS, ALLOWED_CHANNELS) are checked by the bot
// as well; the policy narrows, never widens, them. Only a file with rules
// lets them be left empty: the rules then decide alone, and since every rule
// says who and where, access is still open only where someone wrote "*".
//
// What a channel hears of its jobs (/runjob notify) may be changed by
// whoever may start jobs there: everyone when there are no rules, else
// someone a rule matches in that channel (users or groups, and channels),
// whatever the rule allows (MayTune).
//
// An allowed run needs a confirmation (Decision.Confirm) when its cluster or
// package is protected; a preset run counts the preset's cluster and
// package. This holds with or without rules.
//
// # Errors
//
// Load and Parse return an *Error naming the file, the line and the problem,
// "policy.yaml:12: preset \"nightly\": cluster must be a positive whole
// number", so an invalid file stops start-up with a message an operator can
// act on. When a file has several problems, the one nearest its top is
// reported.
package policy
