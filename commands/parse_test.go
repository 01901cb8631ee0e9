package commands

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// vars builds a variables map from name, value pairs.
func vars(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// run52 is the run most cases build on: cluster 52, package 434.
func run52(variables, dynamic map[string]string) Run {
	return Run{ClusterID: 52, PackageID: 434, Variables: variables, DynamicVariables: dynamic}
}

// base is the text most cases start with.
const base = "cluster=52 package=434 "

type parseCase struct {
	name string
	text string
	want Command // nil when Parse must fail
	// For failures: the Error's Token, and text its message must contain.
	token string
	has   []string
}

var parseCases = []parseCase{
	// Help and sub-commands.
	{name: "empty is the form", text: "", want: Form{}},
	{name: "spaces are the form", text: " \t\n ", want: Form{}},
	{name: "unicode spaces are the form", text: "\u00a0\u3000\u200b", want: Form{}},
	{name: "form", text: "Form", want: Form{}},
	{name: "form takes nothing", text: "form x", token: "x"},
	{name: "packages", text: "packages", want: Packages{}},
	{name: "packages filtered", text: `PACKAGES orders "daily load"`, want: Packages{Words: []string{"orders", "daily load"}}},
	{name: "clusters", text: "clusters prod", want: Clusters{Words: []string{"prod"}}},
	{name: "too many filter words", text: "clusters a b c d e f g h i j k", token: "k"},
	{name: "package by name", text: "cluster=52 package=orders_daily", want: Run{ClusterID: 52, PackageName: "orders_daily"}},
	{name: "cluster by quoted name", text: `package=434 cluster="prod etl" D=1`, want: Run{ClusterName: "prod etl", PackageID: 434, Variables: map[string]string{"D": "1"}}},
	{name: "both by name", text: "cluster=Prod-ETL package=Orders", want: Run{ClusterName: "Prod-ETL", PackageName: "Orders"}},
	{name: "name with digits", text: "cluster=52 package=2024-report", want: Run{ClusterID: 52, PackageName: "2024-report"}},
	{name: "empty name", text: `cluster=52 package=""`, token: `package=""`},
	{name: "blank name", text: `cluster=52 package=" "`, token: `package=" "`},
	{name: "name twice", text: "cluster=52 package=a package=434", token: "package=434"},
	{name: "help", text: "help", want: Help{}},
	{name: "help any case", text: "HeLp", want: Help{}},
	{name: "help with argument", text: "help me", token: "me", has: []string{"`help` takes no arguments", "`/runjob help`"}},
	{name: "list", text: "list", want: List{}},
	{name: "list any case", text: "LIST", want: List{}},
	{name: "list with argument", text: "list 5", token: "5", has: []string{"`list` takes no arguments"}},
	{name: "status", text: "status 1001", want: Status{JobID: 1001}},
	{name: "status with hash", text: "Status #1001", want: Status{JobID: 1001}},
	{name: "stop", text: "stop 7", want: Stop{JobID: 7}},
	{name: "rerun", text: "RERUN 42", want: Rerun{JobID: 42}},
	{name: "rerun after no-break space", text: "rerun\u00a0#42", want: Rerun{JobID: 42}},
	{name: "status without id", text: "status", token: "status", has: []string{"job id is missing", "`status 1001`"}},
	{name: "stop without id keeps case", text: "STOP", token: "STOP", has: []string{"`stop 1001`"}},
	{name: "quoted job id", text: `rerun "#7"`, want: Rerun{JobID: 7}},
	{name: "status with word", text: "status abc", token: "abc", has: []string{"`abc`", "positive whole number", "`status 1001`"}},
	{name: "stop zero", text: "stop 0", token: "0", has: []string{"`stop 1001`"}},
	{name: "stop negative", text: "stop -5", token: "-5", has: []string{"positive whole number"}},
	{name: "rerun two hashes", text: "rerun ##5", token: "##5", has: []string{"positive whole number"}},
	{name: "status overflow", text: "status 99999999999999999999", token: "99999999999999999999", has: []string{"too large"}},
	{name: "status two ids", text: "status 1 2", token: "2", has: []string{"`status` takes one job id"}},

	// Notify.
	{name: "notify shows", text: "notify", want: Notify{}},
	{name: "notify any case", text: "NOTIFY Failures", want: Notify{Level: NotifyFailures}},
	{name: "notify all", text: "notify all", want: Notify{Level: NotifyAll}},
	{name: "notify off", text: "notify off", want: Notify{Level: NotifyOff}},
	{name: "notify combined", text: "notify mention=OFF failures Broadcast=failures",
		want: Notify{Level: NotifyFailures, Broadcast: NotifyFailures, Mention: MentionOff}},
	{name: "notify broadcast off", text: "notify broadcast=off", want: Notify{Broadcast: NotifyOff}},
	{name: "notify mention on quoted", text: `notify mention="on"`, want: Notify{Mention: MentionOn}},
	{name: "notify unknown word", text: "notify loud", token: "loud",
		has: []string{"not a notify setting", "`/runjob notify`", "`broadcast=failures`", "`mention=off`"}},
	{name: "notify two levels", text: "notify all off", token: "off", has: []string{"the level is already set by `all`", "Give it once"}},
	{name: "notify mention twice", text: "notify mention=on mention=off", token: "mention=off", has: []string{"already set by `mention=on`"}},
	{name: "notify bad broadcast", text: "notify broadcast=all", token: "broadcast=all", has: []string{"`broadcast` is `failures` or `off`"}},
	{name: "notify empty mention", text: "notify mention=", token: "mention=", has: []string{"`mention` is `on` or `off`"}},
	{name: "notify bad mention", text: "notify mention=yes", token: "mention=yes", has: []string{"`mention` is `on` or `off`"}},
	{name: "notify unknown key", text: "notify level=off", token: "level=off", has: []string{"not a notify setting"}},
	{name: "notify expression", text: "notify mention:=off", token: "mention:=off", has: []string{"not a notify setting"}},
	{name: "notify is not a preset", text: "notify cluster=52 package=434", token: "cluster=52", has: []string{"not a notify setting"}},

	// Cluster and package.
	{name: "run", text: "cluster=52 package=434", want: run52(nil, nil)},
	{name: "order is free", text: "package=434 cluster=52", want: run52(nil, nil)},
	{name: "keys any case", text: "CLUSTER=52 Package=434", want: run52(nil, nil)},
	{name: "leading zeros", text: "cluster=0052 package=0434", want: run52(nil, nil)},
	{name: "quoted number", text: `cluster="52" package=434`, want: run52(nil, nil)},
	{name: "largest id", text: "cluster=9223372036854775807 package=1", want: Run{ClusterID: 1<<63 - 1, PackageID: 1}},
	{name: "cluster id not a number", text: "cluster=5x2 package=434", want: Run{ClusterName: "5x2", PackageID: 434}},
	{name: "name like e2e", text: "cluster=e2e package=434", want: Run{ClusterName: "e2e", PackageID: 434}},
	{name: "cluster id malformed", text: "cluster=5.2 package=434", token: "cluster=5.2",
		has: []string{"`cluster=5.2`: the cluster id must be a positive whole number", "`cluster=52`"}},
	{name: "cluster zero", text: "cluster=0 package=434", token: "cluster=0", has: []string{"positive whole number"}},
	{name: "cluster negative", text: "cluster=-1 package=434", token: "cluster=-1", has: []string{"positive whole number"}},
	{name: "cluster plus sign", text: "cluster=+5 package=434", token: "cluster=+5", has: []string{"positive whole number"}},
	{name: "cluster exponent", text: "cluster=1e3 package=434", token: "cluster=1e3", has: []string{"positive whole number"}},
	{name: "cluster other digits", text: "cluster=٥٢ package=434", token: "cluster=٥٢", has: []string{"positive whole number"}},
	{name: "cluster overflow", text: "cluster=9223372036854775808 package=434", token: "cluster=9223372036854775808", has: []string{"too large"}},
	{name: "package empty", text: "cluster=52 package=", token: "package=", has: []string{"`package=434`"}},
	{name: "package missing", text: "cluster=52", has: []string{"the package is missing", "`/runjob cluster=52 package=434"}},
	{name: "cluster missing", text: "package=434 DATE=1", has: []string{"the cluster is missing"}},
	{name: "both missing", text: "DATE=1", has: []string{"the cluster and package are missing", "`/runjob nightly"}},
	{name: "cluster twice", text: "cluster=52 package=434 Cluster=53", token: "Cluster=53",
		has: []string{"the cluster is already set by `cluster=52`"}},
	{name: "package twice", text: "package=1 cluster=52 package=1", token: "package=1", has: []string{"already set by `package=1`"}},
	{name: "cluster as expression", text: "cluster:=52 package=434", token: "cluster:=52", has: []string{"not an expression", "`cluster=52`"}},
	{name: "cluster with a space", text: "cluster 52 package 434", token: "cluster", has: []string{"`cluster=…`"}},

	// Variables and dynamic variables.
	{name: "variables", text: base + "DATE=2026-11-01 NOW:=CurrentTime() D:=$OTHER_VAR _x9=1",
		want: run52(vars("DATE", "2026-11-01", "_x9", "1"), vars("NOW", "CurrentTime()", "D", "$OTHER_VAR"))},
	{name: "variables before keys", text: "A=1 cluster=52 B:=x package=434", want: run52(vars("A", "1"), vars("B", "x"))},
	{name: "names are case-sensitive", text: base + "a=1 A=2", want: run52(vars("a", "1", "A", "2"), nil)},
	{name: "value with equals", text: base + "A==b B=:=c C:=x=y", want: run52(vars("A", "=b", "B", ":=c"), vars("C", "x=y"))},
	{name: "longest name", text: base + strings.Repeat("N", MaxNameLen) + "=1", want: run52(vars(strings.Repeat("N", MaxNameLen), "1"), nil)},
	{name: "name too long", text: base + strings.Repeat("N", MaxNameLen+1) + "=1",
		token: strings.Repeat("N", MaxNameLen+1) + "=1", has: []string{"is not a variable name", "at most 64"}},
	{name: "name starts with digit", text: base + "1X=2", token: "1X=2", has: []string{"`1X` is not a variable name", "`DATE=2026-11-01`"}},
	{name: "name with dash", text: base + "my-var=2", token: "my-var=2", has: []string{"`my-var` is not a variable name"}},
	{name: "name with colon", text: base + "A:B=2", token: "A:B=2", has: []string{"`A:B` is not a variable name"}},
	{name: "name missing", text: base + "=5", token: "=5", has: []string{"variable name is missing"}},
	{name: "name quoted", text: base + `"A"=1`, token: `"A"=1`, has: []string{"`NAME=value`"}},
	{name: "name twice", text: base + "A=1 A=2", token: "A=2", has: []string{"`A` is already set by `A=1`"}},
	{name: "name in both maps", text: base + "A:=x A=2", token: "A=2", has: []string{"`A` is already set by `A:=x`"}},
	{name: "bare word", text: base + "foo", token: "foo", has: []string{"`NAME=value`", "`NAME:=expression`"}},
	{name: "unquoted space", text: base + "MSG=hello world", token: "world", has: []string{"`MSG=\"hello world\"`"}},
	{name: "value missing", text: base + "X=", token: "X=", has: []string{"value is missing", "`X=\"\"`"}},
	{name: "expression missing", text: base + "X:=", token: "X:=", has: []string{"expression is missing", "`X:=CurrentTime()`"}},
	{name: "expression empty", text: base + `X:=""`, token: `X:=""`, has: []string{"can't be empty"}},
	{name: "control character", text: base + "X=\"a\x07\"", token: "X=\"a\x07\"", has: []string{"U+0007"}},
	{name: "longest value", text: base + "V=" + strings.Repeat("v", MaxValueLen), want: run52(vars("V", strings.Repeat("v", MaxValueLen)), nil)},
	{name: "value too long", text: base + "V=" + strings.Repeat("v", MaxValueLen+1), token: "V=" + strings.Repeat("v", MaxValueLen+1), has: []string{"1001 characters long"}},
	{name: "most variables", text: base + numbered(MaxVariables), want: run52(numberedVars(MaxVariables), nil)},
	{name: "too many variables", text: base + numbered(MaxVariables+1), token: fmt.Sprintf("V%d=x", MaxVariables),
		has: []string{"at most 50 variables"}},
	{name: "command too long", text: base + numberedLong(40, 110), has: []string{"too long", "4000"}},
	{name: "wire text too long", text: strings.Repeat(" ", maxWireBytes+1), has: []string{"too long"}},
	{name: "invalid UTF-8", text: base + "A=\xff", has: []string{"not valid UTF-8"}},

	// Quoting.
	{name: "double quotes removed", text: base + `MSG="hello world"`, want: run52(vars("MSG", "hello world"), nil)},
	{name: "empty value", text: base + `X=""`, want: run52(vars("X", ""), nil)},
	{name: "single quotes kept", text: base + `S='a b'`, want: run52(vars("S", "'a b'"), nil)},
	{name: "pieces join", text: base + `A="x y"'z w'v`, want: run52(vars("A", "x y'z w'v"), nil)},
	{name: "text after double quotes", text: base + `A="x y"z`, want: run52(vars("A", "x yz"), nil)},
	{name: "escapes in double quotes", text: base + `A="say \"hi\" \\ \n"`, want: run52(vars("A", `say "hi" \ \n`), nil)},
	{name: "backslashes outside quotes", text: base + `P=C:\data\new\"`, token: `P=C:\data\new\"`, has: []string{"would be removed"}},

	// A double quote in the middle of a value is refused, never dropped.
	{name: "json value", text: base + `JSON={"a":1} B=2`, token: `JSON={"a":1}`,
		has: []string{"`JSON={\"a\":1}`: double quotes go around a whole value", "`\"` would be removed", "`JSON=\"{\\\"a\\\":1}\"`"}},
	{name: "quoted piece mid-value", text: base + `Q=name="x"`, token: `Q=name="x"`, has: []string{"would be removed", "`Q=\"name=\\\"x\\\"\"`"}},
	{name: "quoted piece with a space mid-value", text: base + `Q=name="x y" B=2`, token: `Q=name="x y"`, has: []string{"`Q=\"name=\\\"x y\\\"\"`"}},
	{name: "quotes mid-value", text: base + `A=foo"bar baz"`, token: `A=foo"bar baz"`, has: []string{"would be removed", "`A=\"foo\\\"bar baz\\\"\"`"}},
	{name: "unclosed quote mid-value", text: base + `A=foo"bar baz`, token: `A=foo"bar`, has: []string{"would be removed"}},
	{name: "empty quotes mid-value", text: base + `A=x""y`, token: `A=x""y`, has: []string{"would be removed"}},
	{name: "quotes after a closed quote", text: base + `A="x""y"`, token: `A="x""y"`, has: []string{"would be removed"}},
	{name: "double after single", text: base + `A='x'"y"`, token: `A='x'"y"`, has: []string{"would be removed"}},
	{name: "double quote in an expression", text: base + `E:=f("x")`, token: `E:=f("x")`, has: []string{"`E:=\"f(\\\"x\\\")\"`"}},
	{name: "double quote after ==", text: base + `A=="x"`, token: `A=="x"`, has: []string{"would be removed"}},
	{name: "double quote in a job id", text: `status 1"2"`, token: `1"2"`, has: []string{"would be removed", "`JSON="}},
	{name: "quoted value after the first =", text: base + `A="x=y"`, want: run52(vars("A", "x=y"), nil)},
	{name: "empty quotes after & read as nothing", text: base + `A=&""amp; B="&""lt; <""@U1>"`, want: run52(vars("A", "&amp;", "B", "&lt; <@U1>"), nil)},
	{name: "windows path", text: base + `P=C:\data\new`, want: run52(vars("P", `C:\data\new`), nil)},
	{name: "escaped single quote", text: base + `S='it\'s here'`, want: run52(vars("S", `'it\'s here'`), nil)},
	{name: "double inside single", text: base + `S='a "b" c'`, want: run52(vars("S", `'a "b" c'`), nil)},
	{name: "single inside double", text: base + `A="it's"`, want: run52(vars("A", "it's"), nil)},
	{name: "expression quoted", text: base + `B:="CONCAT('a', 'b')"`, want: run52(nil, vars("B", "CONCAT('a', 'b')"))},
	{name: "line break in quotes", text: base + "A=\"one\ntwo\"", want: run52(vars("A", "one\ntwo"), nil)},
	{name: "unclosed double", text: base + `A="x y`, token: `A="x`, has: []string{`the " is never closed`, "`NAME=\"a b\"`"}},

	// A single quote between two letters is an apostrophe.
	{name: "apostrophe", text: "cluster=52 NAME=O'Brien package=434", want: run52(vars("NAME", "O'Brien"), nil)},
	{name: "apostrophes", text: base + "NOTE=don't X=rock'n'roll L=l'été", want: run52(vars("NOTE", "don't", "X", "rock'n'roll", "L", "l'été"), nil)},
	{name: "apostrophe in double quotes", text: base + `NOTE="don't stop"`, want: run52(vars("NOTE", "don't stop"), nil)},
	{name: "apostrophe then a space", text: base + "S=a'b c'", token: "c'", has: []string{"the ' is never closed", "`NAME=O'Brien`", "`NAME=\"Jones' car\"`"}},
	{name: "apostrophe at the end", text: base + "N=Jones'", token: "N=Jones'", has: []string{"the ' is never closed"}},
	{name: "quote after a digit", text: base + "S=1'a b'", want: run52(vars("S", "1'a b'"), nil)},
	{name: "quote before a digit", text: base + "S=a'1 b'", want: run52(vars("S", "a'1 b'"), nil)},
	{name: "quote after a bracket", text: base + "E:=CONCAT('a b','c')", want: run52(nil, vars("E", "CONCAT('a b','c')"))},
	{name: "apostrophe inside single quotes closes", text: base + "S='it's'", token: "S='it's'", has: []string{"the ' is never closed"}},

	// Presets.
	{name: "preset", text: "nightly", want: Run{Preset: "nightly"}},
	{name: "preset with variables", text: "Nightly-v2_x DATE=2026-11-01 T:=CurrentTime()",
		want: Run{Preset: "Nightly-v2_x", Variables: vars("DATE", "2026-11-01"), DynamicVariables: vars("T", "CurrentTime()")}},
	{name: "preset and cluster", text: "nightly cluster=52", token: "cluster=52",
		has: []string{"the preset `nightly` already sets the cluster and package", "Leave out `cluster=52`"}},
	{name: "preset and package", text: "nightly PACKAGE=1", token: "PACKAGE=1", has: []string{"already sets"}},
	{name: "preset name bad", text: "9lives", token: "9lives", has: []string{"not a sub-command, a preset name", "`/runjob help`"}},
	{name: "preset name too long", text: strings.Repeat("p", MaxNameLen+1), token: strings.Repeat("p", MaxNameLen+1), has: []string{"at most 64"}},
	{name: "two presets", text: "nightly weekly", token: "weekly", has: []string{"`NAME=value`", "a preset name goes first"}},
	{name: "preset not first", text: "DATE=1 nightly", token: "nightly", has: []string{"a preset name goes first"}},

	// What Slack does to text.
	{name: "curly double quotes", text: base + "MSG=“hello world”", want: run52(vars("MSG", "hello world"), nil)},
	{name: "low curly double quotes", text: base + "MSG=„hello world‟", want: run52(vars("MSG", "hello world"), nil)},
	{name: "curly single quotes", text: base + "S=‘a b’", want: run52(vars("S", "'a b'"), nil)},
	{name: "curly quotes nested", text: base + "A=“say ‘hi’”", want: run52(vars("A", "say 'hi'"), nil)},
	{name: "curly apostrophe", text: base + "NAME=O’Brien NOTE=don’t", want: run52(vars("NAME", "O'Brien", "NOTE", "don't"), nil)},
	{name: "curly opening apostrophe", text: base + "NAME=O‘Brien", want: run52(vars("NAME", "O'Brien"), nil)},
	{name: "curly apostrophe at the end", text: base + "N=Jones’", token: "N=Jones'", has: []string{"never closed"}},
	{name: "ampersand", text: base + "Q=a&amp;b", want: run52(vars("Q", "a&b"), nil)},
	{name: "angle brackets", text: base + "Q=&lt;b&gt;", want: run52(vars("Q", "<b>"), nil)},
	{name: "entity typed by user", text: base + "Q=&amp;lt;", want: run52(vars("Q", "&lt;"), nil)},
	{name: "entity twice escaped", text: base + "Q=&amp;amp;", want: run52(vars("Q", "&amp;"), nil)},
	{name: "entities in quotes", text: base + `Q="a &amp;&amp; b"`, want: run52(vars("Q", "a && b"), nil)},
	{name: "plain ampersand", text: base + "Q=a&b&c;", want: run52(vars("Q", "a&b&c;"), nil)},
	{name: "plain angle brackets", text: base + "Q=<b> R=a<b", want: run52(vars("Q", "<b>", "R", "a<b"), nil)},
	{name: "typed markup is text", text: base + "U=&lt;https://x.io&gt;", want: run52(vars("U", "<https://x.io>"), nil)},
	{name: "link", text: base + "U=<https://example.com/x?a=1&amp;b=2>", want: run52(vars("U", "https://example.com/x?a=1&b=2"), nil)},
	{name: "link with label", text: base + "U=<https://x.io/r|click here>", want: run52(vars("U", "https://x.io/r"), nil)},
	{name: "auto-linked domain", text: base + "HOST=<http://db.example.com|db.example.com>", want: run52(vars("HOST", "db.example.com"), nil)},
	{name: "auto-linked url", text: base + "U=<https://x.io|https://x.io>", want: run52(vars("U", "https://x.io"), nil)},
	{name: "auto-linked email", text: base + "TO=<mailto:a@b.com|a@b.com>", want: run52(vars("TO", "a@b.com"), nil)},
	{name: "mailto with label", text: base + "TO=<mailto:a@b.com|write me>", want: run52(vars("TO", "mailto:a@b.com"), nil)},
	{name: "link in quotes", text: base + `MSG="see <https://x.io> now"`, want: run52(vars("MSG", "see https://x.io now"), nil)},
	{name: "link text is only text", text: base + `U=<https://x.io/it's>`, want: run52(vars("U", "https://x.io/it's"), nil)},
	{name: "link as a word", text: base + "<https://x.io>", token: "https://x.io", has: []string{"`NAME=value`"}},
	{name: "user mention", text: base + "WHO=<@U024BE7LH>", token: "WHO=@U024BE7LH", has: []string{"Slack turned `@U024BE7LH` into a mention"}},
	{name: "old user mention", text: base + "WHO=<@U024BE7LH|bob>", token: "WHO=@bob", has: []string{"`@bob`"}},
	{name: "here", text: base + "MSG=\"hi <!here>\"", token: `MSG="hi @here"`, has: []string{"`@here` into a mention"}},
	{name: "group mention", text: base + "TEAM=<!subteam^SAZ94GDB8|@devs>", token: "TEAM=@devs", has: []string{"`@devs`"}},
	{name: "mention first", text: "<@U1> help", token: "@U1", has: []string{"mention"}},
	{name: "channel with name", text: base + "CH=<#C024BE7LR|general>", want: run52(vars("CH", "#general"), nil)},
	{name: "channel without name", text: base + "CH=<#C024BE7LR|>", token: "CH=#C024BE7LR", has: []string{"mention"}},
	{name: "no-break space", text: "cluster=52\u00a0package=434\u2003A=1", want: run52(vars("A", "1"), nil)},
	{name: "zero-width space", text: "cluster=52\u200bpackage=434\ufeffA=1", want: run52(vars("A", "1"), nil)},
	{name: "unicode spaces in quotes kept", text: base + "A=\"a\u00a0b\u200bc\"", want: run52(vars("A", "a\u00a0b\u200bc"), nil)},
}

// numbered is n variables V0=x V1=x ...
func numbered(n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = fmt.Sprintf("V%d=x", i)
	}
	return strings.Join(words, " ")
}

func numberedVars(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("V%d", i)] = "x"
	}
	return m
}

// numberedLong is n variables, each with a value of length long.
func numberedLong(n, long int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = fmt.Sprintf("V%d=%s", i, strings.Repeat("v", long))
	}
	return strings.Join(words, " ")
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.text)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tc.text, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("Parse(%q) = %#v, want %#v", tc.text, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %#v, want an error", tc.text, got)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T, want *Error", tc.text, err)
			}
			if got != nil {
				t.Errorf("Parse(%q) = %#v with an error, want nil", tc.text, got)
			}
			if e.Token != tc.token {
				t.Errorf("Parse(%q) error token %q, want %q", tc.text, e.Token, tc.token)
			}
			msg := err.Error()
			if tc.token != "" && !strings.HasPrefix(msg, code(tc.token)+": ") {
				t.Errorf("Parse(%q) error %q does not start with the token", tc.text, msg)
			}
			for _, s := range tc.has {
				if !strings.Contains(msg, s) {
					t.Errorf("Parse(%q) error %q does not contain %q", tc.text, msg, s)
				}
			}
		})
	}
}

// TestParseRoundTrip checks that every run in the table reads back from its
// rendering, and from its rendering as Slack sends it when a user types it.
func TestParseRoundTrip(t *testing.T) {
	for _, tc := range parseCases {
		r, ok := tc.want.(Run)
		if !ok {
			continue
		}
		checkRoundTrip(t, r)
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{
			name: "all fields",
			err:  &Error{Token: "cluster=abc", Reason: "the cluster must be a positive whole number", Hint: "Write it like `cluster=52`."},
			want: "`cluster=abc`: the cluster must be a positive whole number. Write it like `cluster=52`.",
		},
		{
			name: "no token",
			err:  &Error{Reason: "the package is missing"},
			want: "the package is missing.",
		},
		{
			name: "backticks and line breaks cannot end the code span",
			err:  &Error{Token: "A=\"`x`\ny\x00\"", Reason: "bad"},
			want: "`A=\"ˋxˋ↵y\uFFFD\"`: bad.",
		},
		{
			name: "bidi overrides and line separators are replaced",
			err:  &Error{Token: "A=\u202ex\u2028y", Reason: "bad"},
			want: "`A=\uFFFDx\uFFFDy`: bad.",
		},
		{
			name: "long tokens are cut",
			err:  &Error{Token: strings.Repeat("é", maxShown+10), Reason: "bad"},
			want: "`" + strings.Repeat("é", maxShown) + "…`: bad.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestErrorsStayInCodeSpans checks that user text in any error message sits
// inside backticks, whatever the user typed.
func TestErrorsStayInCodeSpans(t *testing.T) {
	nasty := "X=`*bold*`\n<!channel>"
	for _, text := range []string{
		base + nasty,
		base + "`" + strings.Repeat("a", 200) + "`",
		"`help`",
		"status `1`",
		base + "A=\"`\n",
	} {
		_, err := Parse(text)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", text)
			continue
		}
		msg := err.Error()
		if strings.Count(msg, "`")%2 != 0 || strings.ContainsAny(msg, "\n\r") {
			t.Errorf("Parse(%q) error %q: user text escapes its code span", text, msg)
		}
	}
}

func TestUsage(t *testing.T) {
	u := Usage()
	for _, want := range []string{
		"`/runjob cluster=52 package=434`",
		"DATE=2026-11-01",
		"NOW:=CurrentTime()",
		"D:=$OTHER_VAR",
		"`/runjob nightly",
		"`/runjob status 1001`",
		"`/runjob stop 1001`",
		"`/runjob rerun 1001`",
		"`/runjob list`",
		"`/runjob notify`",
		"`/runjob notify failures`",
		"`/runjob notify broadcast=failures`",
		"`/runjob notify mention=off`",
		"`/runjob help`",
		"`S='a b'`",
		"`X=\"\"`",
		"at most 50 variables",
		"up to 64 characters",
		"up to 1000 characters",
		"up to 4000 characters",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("Usage() does not contain %q", want)
		}
	}
	// Every example in the usage text must parse.
	for _, ex := range strings.Split(u, "`/runjob ")[1:] {
		ex, _, _ = strings.Cut(ex, "`")
		if _, err := Parse(ex); err != nil {
			t.Errorf("usage example %q: %v", ex, err)
		}
	}
}

// BenchmarkParseWorstCase keeps Parse linear on hostile text at the size
// limit: runs of "<" (markup lookahead), "&", and one long word.
func BenchmarkParseWorstCase(b *testing.B) {
	inputs := []string{
		strings.Repeat("<", maxWireBytes),
		strings.Repeat("<a:|", maxWireBytes/4),
		strings.Repeat("&amp", maxWireBytes/4),
		base + "A='" + strings.Repeat(`\ `, maxWireBytes/2-30),
		base + strings.Repeat("A ", maxWireBytes/2-20),
	}
	for b.Loop() {
		for _, s := range inputs {
			if _, err := Parse(s); err == nil {
				b.Fatalf("Parse(%.20q...) succeeded", s)
			}
		}
	}
}

// An error that quotes an earlier word names it apart from its reason, so
// that a caller can mask a secret value in it as it masks the token.
func TestErrorNamesTheEarlierWordItQuotes(t *testing.T) {
	for text, want := range map[string]string{
		"cluster=52 package=434 DB_PASSWORD=hunter2 DB_PASSWORD:=x": "DB_PASSWORD=hunter2",
		`cluster=52 package=434 S="a b" S=c`:                        `S="a b"`,
		"cluster=52 cluster=53 package=434":                         "cluster=52",
		"cluster=52 package=434 A=1 B=2":                            "",
	} {
		_, err := Parse(text)
		var ce *Error
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", text, err)
			}
			continue
		}
		if !errors.As(err, &ce) || ce.Earlier != want || strings.Contains(ce.Reason, want) {
			t.Errorf("%q: error %#v, want Earlier %q and a Reason without it", text, err, want)
		}
	}
}
