package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/runjob/runjob"

// floorRow is a row of ARCHITECTURE.md's table: | floor | `pkg`, `pkg` | ... |
var floorRow = regexp.MustCompile("^\\| (\\d+) \\| ((?:`[^`]+`(?:, )?)+) \\|")

// TestPackagesImportOnlyFloorsBelow holds the code to ARCHITECTURE.md: every
// package of the module is on a floor there, and no package's code imports
// a package on a higher floor (tests may: they sit above what they test).
func TestPackagesImportOnlyFloorsBelow(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	floors := map[string]int{}
	for _, line := range strings.Split(string(doc), "\n") {
		m := floorRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		for _, p := range strings.Split(m[2], ", ") {
			floors[strings.Trim(p, "`")] = n
		}
	}
	if len(floors) == 0 {
		t.Fatal("ARCHITECTURE.md has no table of floors")
	}

	imports := map[string][]string{} // package → module packages its code imports
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if _, seen := imports[pkg]; !seen {
			imports[pkg] = nil // a package that imports none of the module's is still one
		}
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			if rest, ok := strings.CutPrefix(imp, modulePath+"/"); ok {
				imports[pkg] = append(imports[pkg], rest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 10 {
		t.Fatalf("found only %d packages under %s", len(imports), root)
	}
	for pkg, imps := range imports {
		floor, ok := floors[pkg]
		if !ok {
			t.Errorf("package %s is on no floor of ARCHITECTURE.md", pkg)
			continue
		}
		for _, imp := range imps {
			if f, ok := floors[imp]; ok && f > floor {
				t.Errorf("%s (floor %d) imports %s (floor %d), a floor above it", pkg, floor, imp, f)
			}
		}
	}
	for pkg := range floors {
		if _, ok := imports[pkg]; !ok {
			t.Errorf("ARCHITECTURE.md lists %s, which has no code", pkg)
		}
	}
}
