package archtest

import (
	"go/ast"
	"go/token"
	"path/filepath"
	"slices"
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
	forEachGoFile(t, 0, []string{"internal/jsonenc"}, func(rel string, fset *token.FileSet, f *ast.File) {
		js := importName(f, "encoding/json")
		if js == "" {
			return
		}
		output := slices.Contains(jsonOutputDirs, filepath.Dir(rel))
		// Each declaration (a function, or package-level variables) is
		// one scope in which an encoder must turn escaping off.
		for _, decl := range f.Decls {
			var encoders []token.Pos
			unescaped := false
			ast.Inspect(decl, func(n ast.Node) bool {
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
	})
}
