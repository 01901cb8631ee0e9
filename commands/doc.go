// Package commands is the /runjob grammar: it turns the text of a slash
// command into a typed Command, or into an *Error written for the person who
// typed it. It is the bot's front door, so it is forgiving of what Slack does
// to text and strict about what reaches Xplenty. It is pure: no I/O, no Slack
// types, nothing outside the standard library.
//
// # Forms
//
//	cluster=52 package=434 [NAME=value ...] [NAME:=expression ...]   Run
//	cluster="prod etl" package=orders_daily [...]                      Run by names
//	PRESET [NAME=value ...] [NAME:=expression ...]                     Run with Preset
//	status 1001 | stop 1001 | rerun 1001                               Status, Stop, Rerun
//	list                                                               List
//	packages [WORD ...] | clusters [WORD ...]                          Packages, Clusters
//	notify [all|failures|off] [broadcast=…] [mention=…]                Notify
//	help                                                               Help
//	form, or nothing at all                                            Form
//
// Words are separated by any Unicode space (unicode.IsSpace) and by the
// invisible U+200B and U+FEFF that pasted text often carries. Sub-command
// words are case-insensitive and take exactly the arguments shown; a job id
// is a positive whole number and may start with "#" (status #1001).
//
// A run names its cluster and package with cluster=N and package=M, in any
// order among the other words, each exactly once. The keys are
// case-insensitive and the numbers are positive decimal integers that fit in
// an int64; leading zeros are accepted (cluster=052 is cluster 52) and Render
// never writes them. Signs, exponents and other digits are refused. Any other
// value is a name (package=orders_daily, cluster="prod etl"), up to
// MaxTargetNameLen characters, that Parse leaves in PackageName or
// ClusterName with the id 0, for the caller to resolve.
//
// notify alone asks for the channel's notification settings; with
// arguments it changes them: a level word (all, failures, off), broadcast=
// (failures, off) and mention= (on, off), each at most once, in any order,
// words, keys and values in any case.
//
// A first word that is none of the sub-commands and has no "=" is a preset
// name, matching [A-Za-z][A-Za-z0-9_-]*, resolved by the caller. A preset fixes
// the cluster and package, so cluster= and package= are refused after one;
// "cluster", "package" and the sub-command words are not preset names.
//
// NAME=value sets a job variable and NAME:=expression a dynamic variable, an
// Xplenty expression sent as written (NOW:=CurrentTime()). Names match
// [A-Za-z_][A-Za-z0-9_]* and are case-sensitive; "cluster" and "package" in
// any case are the keys above, never variables. A name may be set once, in
// either map. An empty value is written X=""; X= alone is refused with that
// hint, and an expression may not be empty.
//
// # Values
//
// Values read like a shell word, except that no quote a user typed is
// dropped without telling them:
//
//   - Unquoted text runs up to the next space. Backslashes are plain text
//     (PATH=C:\data).
//   - "Double quotes" group text and are removed. Inside them \" is a quote
//     and \\ a backslash; any other backslash is plain text.
//   - A double quote opens only at the start of a value (or of a word). One
//     in the middle of a value (JSON={"a":1}, Q=name="x") is refused, with a
//     hint to quote the whole value: JSON="{\"a\":1}". The one exception is
//     "" right after & or <, which reads as nothing (see Render).
//   - 'Single quotes' group text and are kept, because Xplenty reads them as
//     a string literal: S='a b' sends 'a b'. Inside them a backslash keeps
//     the next character from closing the quote ('it\'s' stays as typed).
//   - A single quote between two letters (unicode.IsLetter on both sides) is
//     an apostrophe, not a quote: NOTE=don't and NAME=O'Brien are sent as
//     typed. So S=a'b c' is the value a'b and then a word c' whose quote is
//     never closed: a single quote opens a literal only at the start of a
//     value or next to something other than a letter (CONCAT('a b','c')).
//     Inside single quotes, a ' always closes.
//   - Pieces join up after a quote closes: A="x y"'z w'v is x y'z w'v. A
//     quote left open is an error.
//
// A value may not hold control characters other than spaces and line breaks.
//
// # What Slack does to text, undone
//
// The text is read as Slack sends it, in one pass from left to right:
//
//   - &amp; &lt; &gt; become & < >. Slack escapes these three wherever the
//     user typed them, so a user who typed &lt; arrives as &amp;lt; and is
//     read as &lt;. Other & are left alone.
//   - A real < starts Slack markup only when it looks like it: <...> on one
//     line, with no space before a "|", starting with @, #, ! or a URL scheme
//     (letters, then ":"). Any other < is plain text, which keeps text typed
//     outside Slack (the shell mode) readable.
//   - Links become text. When the label is the URL without its scheme
//     (<http://example.com|example.com>, <mailto:a@b.c|a@b.c>), Slack
//     auto-linked what the user typed, so the label is kept: HOST=db.example.com
//     stays db.example.com. Otherwise (<https://x>, <https://x|click here>) the
//     URL is kept. Link text is plain text: its quotes, spaces and
//     backslashes group or escape nothing.
//   - A channel reference with a name (<#C024BE7LR|general>) becomes #general.
//     Mentions (<@U024BE7LH>, <!here>, <!subteam^S1|@devs>) and channel
//     references without a name are refused: their text is an id the user
//     never saw, and a job variable is no place for a ping.
//   - Curly quotes (“ ” „ ‟ and ‘ ’ ‚ ‛), which phones and macOS type for
//     straight ones, are straight quotes, everywhere, inside quotes too.
//     So no value Parse returns holds a curly quote, and an apostrophe typed
//     on a phone (NOTE=don’t) reads as the straight one (don't).
//
// # Render and round trips
//
// Render writes a Run back in canonical form: cluster=N package=M (or the
// preset name), then variables sorted by name, then dynamic variables sorted
// by name. A value is written as it is when that reads back unchanged
// (including values made of 'single-quoted' pieces and apostrophes between
// letters), otherwise in double quotes, from its start, with \" and \\
// escaped; so a value holding a " is always written in double quotes. Where
// the text would otherwise read as Slack's escaping or markup (&amp;, &lt;,
// &gt; or a markup-like <), Render puts an empty "" right after the & or <,
// which reads as nothing, inside double quotes or outside any.
//
// Render's output is plain text for Parse, the form a user types: it has no
// entities, no markup and no curly quotes, and Slack's escaping of it is
// undone by Parse. For every Run that Parse returns, Parse(Render(run))
// returns the same Run (compared with reflect.DeepEqual: maps are nil when
// empty). Runs that Parse cannot produce, such as values holding curly
// quotes, render on a best-effort basis.
//
// # Bounds
//
// A run may set at most MaxVariables variables (both kinds together), names
// and preset names are at most MaxNameLen characters, values at most
// MaxValueLen characters. A run may be at most MaxTextLen characters long,
// measured in its canonical form (what Render writes), so the limit does not
// depend on how the text was quoted and Render's output always reads back.
// Text over 64,000 bytes (16 bytes for each of MaxTextLen characters, more
// than Slack's escaping and link markup can add) is refused before it is
// read.
package commands
