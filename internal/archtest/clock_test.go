package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
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
	forEachGoFile(t, parser.ParseComments, wallClockExempt, func(rel string, fset *token.FileSet, f *ast.File) {
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
			return
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
					rel, pos.Line, sel.Sel.Name, wallClockMarker+" ...")
			}
			return true
		})
	})
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
