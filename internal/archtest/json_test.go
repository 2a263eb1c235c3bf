package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// jsonOutputDirs write JSON that people, jq and gateways read: the API, the
// event stream and webhooks, the dashboard's evidence, both command lines.
var jsonOutputDirs = []string{"server/api", "server/events", "server/cli", "server/dashboard", "agent/cli", "agent/output", "internal/cmdutil"}

// TestShownJSONKeepsAngleBracketsAndAmpersands keeps every JSON a person or
// a gateway reads free of \u003c, \u003e and \u0026: the output packages
// encode through internal/jsonenc, and any json.NewEncoder anywhere turns
// HTML escaping off in the same function.
func TestShownJSONKeepsAngleBracketsAndAmpersands(t *testing.T) {
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
		rel = filepath.ToSlash(rel)
		dir := filepath.Dir(rel)
		if dir == "internal/jsonenc" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		js := importName(f, "encoding/json")
		if js == "" {
			return nil
		}
		output := slices.Contains(jsonOutputDirs, dir)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			var encoders []token.Pos
			unescaped := false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if sel.Sel.Name == "SetEscapeHTML" {
					unescaped = true
				}
				x, ok := sel.X.(*ast.Ident)
				if !ok || x.Name != js {
					return true
				}
				switch sel.Sel.Name {
				case "NewEncoder":
					encoders = append(encoders, call.Pos())
				case "Marshal", "MarshalIndent":
					if output {
						t.Errorf("%s:%d: json.%s escapes <, > and & in output people and gateways read: use internal/jsonenc", rel, fset.Position(call.Pos()).Line, sel.Sel.Name)
					}
				}
				return true
			})
			for _, p := range encoders {
				if !unescaped || output {
					t.Errorf("%s:%d: json.NewEncoder escapes <, > and &: use jsonenc.NewEncoder", rel, fset.Position(p).Line)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
