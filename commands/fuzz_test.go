package commands

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseRender checks that Parse never panics, that it fails only with an
// *Error whose user text stays in its code spans, and that every run it
// returns reads back from its rendering, as typed and as Slack sends it.
// Its seed corpus is testdata/fuzz/FuzzParseRender plus the cases below.
func FuzzParseRender(f *testing.F) {
	for _, tc := range parseCases {
		// The fuzzer minimizes what it finds, which takes minutes
		// for inputs grown from the long seeds; the table has them.
		if len(tc.text) <= 128 {
			f.Add(tc.text)
		}
	}
	for _, s := range []string{
		`cluster=52 package=434 A="&amp;" B='x y' C:="a \"b\" \\"`,
		"nightly S=‘a b’ U=<http://x.io|x.io> V=<https://y.io|label> W=&amp;lt;",
		`cluster=52 package=434 A=<""@U1> B=&""amp; C="<""http://x y>"`,
		"cluster=52 package=434 A=\"\u00a0\" B=x\u200by",
		"cluster=52 package=434 A='a\\'",
		"status #1 ",
		"notify Failures broadcast=\"off\" mention=&amp;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := Parse(text)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T, want *Error", text, err)
			}
			msg := e.Error()
			if strings.Count(msg, "`")%2 != 0 || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("Parse(%q) error %q: user text escapes its code span", text, msg)
			}
			return
		}
		if n, ok := cmd.(Notify); ok {
			if why := notifyProblem(n); why != "" {
				t.Fatalf("Parse(%q) = %#v: %s", text, n, why)
			}
			return
		}
		r, ok := cmd.(Run)
		if !ok {
			return
		}
		if why := runProblem(r); why != "" {
			t.Fatalf("Parse(%q) = %#v, which breaks the grammar: %s", text, r, why)
		}
		rendered := Render(r)
		for _, in := range []string{rendered, slackEscape(rendered)} {
			got, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse(%q) = %#v, Render = %q, which does not parse: %v", text, r, in, err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Fatalf("Parse(%q) = %#v, Render = %q, which parses as %#v", text, r, in, got)
			}
		}
	})
}

// FuzzRender builds runs from fuzzed names and values and checks that every
// run Parse could have returned reads back from its rendering.
func FuzzRender(f *testing.F) {
	f.Add("", int64(52), int64(434), "DATE", "2026-11-01", "MSG", "hello world", "NOW", "CurrentTime()")
	f.Add("nightly", int64(0), int64(0), "S", "'a b'", "Q", `a"b\`, "E", "CONCAT('a', 'b')")
	f.Add("", int64(1), int64(1), "A", "&amp;<@U1>", "B", "<https://x|y", "C", "z>\u00a0")
	f.Add("p", int64(0), int64(0), "A", "", "B", "'it\\'s'", "C", "x'&'y")
	f.Fuzz(func(t *testing.T, preset string, cluster, pkg int64, n1, v1, n2, v2, n3, v3 string) {
		r := Run{Preset: preset, ClusterID: cluster, PackageID: pkg}
		add := func(m *map[string]string, name, v string) {
			if *m == nil {
				*m = map[string]string{}
			}
			(*m)[fuzzName(name)] = v
		}
		add(&r.Variables, n1, v1)
		add(&r.Variables, n2, v2)
		add(&r.DynamicVariables, n3, v3)
		if runProblem(r) != "" {
			return
		}
		checkRoundTrip(t, r)
	})
}

// fuzzName makes a valid variable name out of fuzzed text, so that the
// fuzzer spends its time on values.
func fuzzName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < MaxNameLen-1; i++ {
		if c := s[i]; c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		}
	}
	return fmt.Sprintf("V%s", b.String())
}

// pieces are the fragments most likely to trip the grammar; random joins
// of them reach corners that byte-level fuzzing finds slowly.
var pieces = []string{
	`"`, `'`, `\`, `\"`, `\'`, `\\`, "&", "&amp;", "&lt;", "&gt;", "amp;", "<", ">", "|", "@", "#", "!",
	"http:", "https://x.io", "mailto:", " ", "\u00a0", "\u200b", "\n", "“", "”", "‘", "’",
	"=", ":=", ":", "a", "Z9", "_", "é", "cluster=52", "package=434", "nightly", "status", "1",
	"notify", "broadcast=", "mention=off",
}

// TestRandomPieces checks the FuzzParseRender and FuzzRender properties on
// texts and values joined from pieces, with a fixed seed.
func TestRandomPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	join := func(n int) string {
		var b strings.Builder
		for range rng.IntN(n) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	parsed := 0
	for range 20000 {
		text := "cluster=52 package=434 A=" + join(12) + " B:=" + join(12) + " " + join(6)
		if rng.IntN(4) == 0 {
			text = join(16)
		}
		cmd, err := Parse(text)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T, want *Error", text, err)
			}
			continue
		}
		if r, ok := cmd.(Run); ok {
			parsed++
			checkRoundTrip(t, r)
		}

		r := Run{ClusterID: 1, PackageID: 2, Variables: vars("V", join(10)), DynamicVariables: vars("E", join(10))}
		if runProblem(r) == "" {
			checkRoundTrip(t, r)
		}
		named := Run{ClusterName: "c" + join(8), PackageName: join(8) + "p"}
		if runProblem(named) == "" {
			named.Variables = vars("V", join(4))
			if runProblem(named) == "" {
				checkRoundTrip(t, named)
			}
		}
	}
	if parsed < 500 {
		t.Errorf("only %d random texts parsed as runs; the generator needs work", parsed)
	}
}

// notifyProblem says what in a Notify the grammar should not have let
// through, or "".
func notifyProblem(n Notify) string {
	switch n.Level {
	case "", NotifyAll, NotifyFailures, NotifyOff:
	default:
		return "level " + string(n.Level)
	}
	switch n.Broadcast {
	case "", NotifyFailures, NotifyOff:
	default:
		return "broadcast " + string(n.Broadcast)
	}
	switch n.Mention {
	case "", MentionOn, MentionOff:
	default:
		return "mention " + string(n.Mention)
	}
	return ""
}
