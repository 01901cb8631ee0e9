package commands

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// slackEscape is what Slack does to the & < > a user types.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// checkRoundTrip checks that r, which Parse could have returned, reads back
// from its rendering: as the bot shows it, and as Slack sends it when a user
// copies it into /runjob (Slack escapes & < > on the way in).
func checkRoundTrip(t *testing.T, r Run) {
	t.Helper()
	if why := runProblem(r); why != "" {
		t.Fatalf("run %#v is not one Parse returns: %s", r, why)
	}
	text := Render(r)
	for _, in := range []string{text, slackEscape(text)} {
		got, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q) (rendered from %#v): %v", in, r, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("Parse(%q) = %#v, want %#v", in, got, r)
		}
	}
}

// runProblem says why Parse could not have returned r, or "".
func runProblem(r Run) string {
	if r.Preset != "" {
		if !validPreset(r.Preset) || len(r.Preset) > MaxNameLen || reserved(r.Preset) {
			return "bad preset name"
		}
		if r.ClusterID != 0 || r.PackageID != 0 {
			return "a preset with a cluster or package"
		}
	} else if r.ClusterID < 0 || r.PackageID < 0 || r.ClusterID == 0 && r.ClusterName == "" || r.PackageID == 0 && r.PackageName == "" {
		return "no cluster or package"
	}
	for _, name := range []string{r.ClusterName, r.PackageName} {
		if name != "" && (numberLike(name) || valueProblem(name) != "" || strings.TrimSpace(name) == "") {
			return "bad cluster or package name " + name
		}
	}
	if r.Variables != nil && len(r.Variables) == 0 || r.DynamicVariables != nil && len(r.DynamicVariables) == 0 {
		return "an empty map that is not nil"
	}
	if len(r.Variables)+len(r.DynamicVariables) > MaxVariables {
		return "too many variables"
	}
	for _, m := range []map[string]string{r.Variables, r.DynamicVariables} {
		for name, v := range m {
			if !validName(name) {
				return "bad name " + name
			}
			if k := lowerASCII(name); k == keyCluster || k == keyPackage {
				return "variable named " + name
			}
			if why := valueProblem(v); why != "" {
				return why
			}
		}
	}
	for name, v := range r.DynamicVariables {
		if _, ok := r.Variables[name]; ok {
			return name + " in both maps"
		}
		if v == "" {
			return "empty expression"
		}
	}
	if utf8.RuneCountInString(Render(r)) > MaxTextLen {
		return "too long"
	}
	return ""
}

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		run  Run
		want string
	}{
		{name: "cluster and package", run: run52(nil, nil), want: "cluster=52 package=434"},
		{name: "preset", run: Run{Preset: "nightly"}, want: "nightly"},
		{
			name: "sorted, variables before dynamic ones",
			run:  run52(vars("b", "2", "A", "1", "C", "3"), vars("Z", "x", "D", "CurrentTime()")),
			want: "cluster=52 package=434 A=1 C=3 b=2 D:=CurrentTime() Z:=x",
		},
		{name: "preset with variables", run: Run{Preset: "nightly", Variables: vars("DATE", "2026-11-01")}, want: "nightly DATE=2026-11-01"},
		{name: "empty", run: run52(vars("X", ""), nil), want: `cluster=52 package=434 X=""`},
		{name: "space", run: run52(vars("X", "a b"), nil), want: `cluster=52 package=434 X="a b"`},
		{name: "single-quoted", run: run52(vars("S", "'a b'"), nil), want: `cluster=52 package=434 S='a b'`},
		{name: "single-quoted pieces", run: run52(nil, vars("E", "CONCAT('a b','c')")), want: `cluster=52 package=434 E:=CONCAT('a b','c')`},
		{name: "escaped single quote", run: run52(vars("S", `'it\'s'`), nil), want: `cluster=52 package=434 S='it\'s'`},
		{name: "apostrophe", run: run52(vars("N", "O'Brien"), nil), want: `cluster=52 package=434 N=O'Brien`},
		{name: "apostrophes", run: run52(vars("N", "rock'n'roll", "L", "l'été"), nil), want: `cluster=52 package=434 L=l'été N=rock'n'roll`},
		{name: "apostrophe and a space", run: run52(vars("N", "don't stop"), nil), want: `cluster=52 package=434 N="don't stop"`},
		{name: "apostrophe at the end", run: run52(vars("N", "Jones'"), nil), want: `cluster=52 package=434 N="Jones'"`},
		{name: "apostrophe then a quoted piece", run: run52(vars("N", "a'b c'"), nil), want: `cluster=52 package=434 N="a'b c'"`},
		{name: "quote after a letter opens before a digit", run: run52(vars("N", "a'1 b'"), nil), want: `cluster=52 package=434 N=a'1 b'`},
		{name: "json", run: run52(vars("JSON", `{"a":1}`), nil), want: `cluster=52 package=434 JSON="{\"a\":1}"`},
		{name: "double quote in the middle", run: run52(vars("Q", `name="x"`), nil), want: `cluster=52 package=434 Q="name=\"x\""`},
		{name: "double quote", run: run52(vars("Q", `a"b`), nil), want: `cluster=52 package=434 Q="a\"b"`},
		{name: "backslashes stay single", run: run52(vars("P", `C:\dir`), nil), want: `cluster=52 package=434 P=C:\dir`},
		{name: "backslash before the closing quote", run: run52(vars("P", `C:\my dir\`), nil), want: `cluster=52 package=434 P="C:\my dir\\"`},
		{name: "backslash before a quote", run: run52(vars("P", `a b\"`), nil), want: `cluster=52 package=434 P="a b\\\""`},
		{name: "ampersand", run: run52(vars("Q", "a&b"), nil), want: "cluster=52 package=434 Q=a&b"},
		{name: "entity text", run: run52(vars("Q", "&amp; &lt;x&gt;"), nil), want: `cluster=52 package=434 Q="&""amp; &""lt;x&""gt;"`},
		{name: "markup text", run: run52(vars("U", "<https://x.io>", "M", "<@U1>"), nil), want: `cluster=52 package=434 M=<""@U1> U=<""https://x.io>`},
		{name: "markup across words", run: run52(vars("A", "<http://x|a", "B", "b>"), nil), want: `cluster=52 package=434 A=<""http://x|a B=b>`},
		{name: "space before the bar is no markup", run: run52(vars("A", "<http://x", "B", "y>"), nil), want: `cluster=52 package=434 A=<http://x B=y>`},
		{name: "plain angle brackets", run: run52(vars("Q", "<b>"), nil), want: "cluster=52 package=434 Q=<b>"},
		{name: "no-break space", run: run52(vars("Q", "a\u00a0b"), nil), want: "cluster=52 package=434 Q=\"a\u00a0b\""},
		{name: "expression with spaces", run: run52(nil, vars("E", "CONCAT('a', 'b')")), want: `cluster=52 package=434 E:="CONCAT('a', 'b')"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Render(tc.run); got != tc.want {
				t.Errorf("Render() = %q, want %q", got, tc.want)
			}
			checkRoundTrip(t, tc.run)
		})
	}
}

// TestRoundTripValues checks values chosen to trip the quoting, each as a
// variable and as an expression.
func TestRoundTripValues(t *testing.T) {
	values := []string{
		"", " ", "x", "a b", `"`, `""`, `'`, `''`, `'a`, `a'`, `'a b'`, `'a' 'b'`, `'a\'`, `'a\'b'`,
		`\`, `\\`, `\"`, `"\`, `a\`, `a\ b`, `\n`, "=", ":=", "=x", ":=x", "#1",
		"&", "&amp;", "&amp;amp;", "&lt;", "&gt;", "&&", "&amp", "<", ">", "<>", "<<a>", "<@U1>", "<!here>",
		"<#C1|x>", "<https://x.io|y z>", "<a:b>", "<a:b", "'<x:y>'", "'&amp;'", "a'&amp;'b",
		"\u00a0", "x\u200by", "\ufeff", "\t", "a\nb", "\r\n", "émoji 🎉", "a\u202eb",
		"`code`", "*bold*", "O'Brien", "CONCAT('a', 'b')", "$OTHER_VAR",
		"don't", "a'b c'", "a'b'c", "'a'b'", "é'é", "a'", "'a", "a'1 b'", "1'a b'", "x'&'y", "a'b&amp;",
		`{"a":1}`, `name="x"`, `a""b`, `&""`, `<""`, `&"`, `x&`, `x<`, "a&", "a&\"", `"&"`,
		strings.Repeat("\"", MaxValueLen), strings.Repeat("&amp;", MaxValueLen/5),
	}
	for _, v := range values {
		checkRoundTrip(t, run52(vars("V", v), nil))
		if v != "" {
			checkRoundTrip(t, Run{Preset: "p", DynamicVariables: vars("E", v)})
		}
	}
}

// TestRenderResolvedPreset checks that a run whose preset the caller has
// resolved (and so has a cluster and package) renders as the preset, which
// is what running it again means.
func TestRenderResolvedPreset(t *testing.T) {
	r := Run{Preset: "nightly", ClusterID: 52, PackageID: 434, Variables: vars("DATE", "2026-11-01")}
	if got, want := Render(r), "nightly DATE=2026-11-01"; got != want {
		t.Errorf("Render() = %q, want %q", got, want)
	}
}
