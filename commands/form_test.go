package commands

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseVariables(t *testing.T) {
	for _, tc := range []struct {
		text      string
		vars, dyn map[string]string
		err       []string // parts of the error; nil for none
	}{
		{text: "", vars: nil},
		{text: "\n  \n", vars: nil},
		{text: "DATE=2026-11-01\nMSG=\"hello world\"\n\nNOW:=CurrentTime()\n",
			vars: vars("DATE", "2026-11-01", "MSG", "hello world"), dyn: vars("NOW", "CurrentTime()")},
		{text: "A=&amp;\nB=<x>", vars: vars("A", "&amp;", "B", "<x>")},
		{text: "S=‘a b’", vars: vars("S", "'a b'")},
		{text: "  PAD=1  ", vars: vars("PAD", "1")},
		{text: "MSG=hello world", err: []string{"`world`", "line 1: one variable a line"}},
		{text: "A=1\nA=2", err: []string{"`A=2`", "line 2: `A` is already set by", "`A=1`"}},
		{text: "A=1\nB", err: []string{"`B`", "line 2: this should be"}},
		{text: "package=434", err: []string{"line 1: the package is picked above"}},
		{text: "X=\"open", err: []string{"line 1:"}},
		{text: "1A=x", err: []string{"line 1:", "is not a variable name"}},
		{text: strings.Repeat("A", MaxFormTextLen+1), err: []string{"the most is 3000"}},
	} {
		v, d, err := ParseVariables(tc.text)
		if tc.err != nil {
			if err == nil {
				t.Errorf("ParseVariables(%q) = %v %v, want an error", tc.text, v, d)
				continue
			}
			for _, part := range tc.err {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("ParseVariables(%q) error %q, want it to hold %q", tc.text, err, part)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseVariables(%q): %v", tc.text, err)
			continue
		}
		if !reflect.DeepEqual(v, tc.vars) || !reflect.DeepEqual(d, tc.dyn) {
			t.Errorf("ParseVariables(%q) = %v %v, want %v %v", tc.text, v, d, tc.vars, tc.dyn)
		}
	}
}

func TestVariableLinesMasks(t *testing.T) {
	got := VariableLines(vars("DB_PASSWORD", "hunter2", "DATE", "x y"), vars("NOW", "CurrentTime()"),
		func(n string) bool { return n == "DB_PASSWORD" }, "••••")
	want := "DATE=\"x y\"\nDB_PASSWORD=••••\nNOW:=CurrentTime()"
	if got != want {
		t.Errorf("VariableLines = %q, want %q", got, want)
	}
}

// FuzzVariableLines checks that the variables box reads back what the
// form writes in it, for every run Parse could return.
func FuzzVariableLines(f *testing.F) {
	f.Add("DATE", "2026-11-01", "MSG", "hello world", "NOW", "CurrentTime()")
	f.Add("Q", `a"b\`, "S", "'a b'", "E", "CONCAT('a', 'b')")
	f.Add("A", "&amp;<@U1>", "B", "<https://x|y", "C", "z>\u00a0")
	f.Add("A", `&""`, "B", "'it\\'s'", "C", "x'&'y")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, n3, v3 string) {
		r := Run{ClusterID: 1, PackageID: 2}
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
		text := VariableLines(r.Variables, r.DynamicVariables, nil, "")
		v, d, err := ParseVariables(text)
		if err != nil {
			t.Fatalf("VariableLines = %q, which does not parse: %v", text, err)
		}
		if !reflect.DeepEqual(v, r.Variables) || !reflect.DeepEqual(d, r.DynamicVariables) {
			t.Fatalf("VariableLines(%v, %v) = %q, which reads back as %v %v", r.Variables, r.DynamicVariables, text, v, d)
		}
	})
}
