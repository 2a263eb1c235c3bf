package api

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEveryReasonCodeIsDocumented keeps docs/openapi.json's list of reason
// codes complete: every Code* constant of the decision package and of this
// one (a new reason added without documenting it fails here).
func TestEveryReasonCodeIsDocumented(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Reason struct {
					Properties struct {
						Code struct {
							Enum []string `json:"enum"`
						} `json:"code"`
					} `json:"properties"`
				} `json:"Reason"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	enum := doc.Components.Schemas.Reason.Properties.Code.Enum
	codes := map[string]string{}
	for _, file := range []string{"../decision/decision.go", "blocked.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					codes[name.Name] = v
				}
			}
			return true
		})
	}
	if len(codes) < 10 {
		t.Fatalf("found only %d reason codes: %v", len(codes), codes)
	}
	for name, v := range codes {
		if !slices.Contains(enum, v) {
			t.Errorf("%s (%q) is not in docs/openapi.json's Reason.code enum", name, v)
		}
	}
}
