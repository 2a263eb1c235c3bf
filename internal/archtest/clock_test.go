package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// wallClockExempt may read the wall clock freely: the clock package itself,
// and the gateway client, which links only the standard library and judges
// the server's certificate by the gateway's own clock.
var wallClockExempt = []string{"internal/clock", "gateway"}

// wallClockMarker must end a line that reads time.Now, time.Since or
// time.Until directly, saying why: a network deadline or an elapsed-time
// measurement is about this process, not about a date, so the test clock
// shift must not move it.
const wallClockMarker = "// wall clock:"

// TestDatesComeFromTheClockPackage keeps every "now" that can meet a fixed
// date in a test — a default clock, a certificate's validity, a report's
// age — on clock.Now, which `make test-clockshift` moves 400 days ahead. A
// stray time.Now default is the time bomb of a test that pins a date in a
// fixture: it passes the day it is written and fails a week later.
func TestDatesComeFromTheClockPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "bin" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.ToSlash(filepath.Dir(rel))
		for _, ok := range wallClockExempt {
			if dir == ok {
				return nil
			}
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		marked := map[int]bool{}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if strings.HasPrefix(c.Text, wallClockMarker) && len(strings.TrimSpace(strings.TrimPrefix(c.Text, wallClockMarker))) > 0 {
					marked[fset.Position(c.Pos()).Line] = true
				}
			}
		}
		timeName := importName(f, "time")
		if timeName == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok || x.Name != timeName || (sel.Sel.Name != "Now" && sel.Sel.Name != "Since" && sel.Sel.Name != "Until") {
				return true
			}
			pos := fset.Position(sel.Pos())
			if !marked[pos.Line] {
				t.Errorf("%s:%d: time.%s: use clock.Now (internal/clock), or end the line with %q and the reason it is not a date",
					filepath.ToSlash(rel), pos.Line, sel.Sel.Name, wallClockMarker+" ...")
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// importName is the name under which f imports path, or "" when it does
// not.
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return filepath.Base(path)
	}
	return ""
}
