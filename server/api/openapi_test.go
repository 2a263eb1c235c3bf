package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the embedded document")

const docsOpenAPI = "../../docs/openapi.json"

func TestOpenAPI(t *testing.T) {
	f := newFixture(t)
	t.Run("the served document is the checked-in one", func(t *testing.T) {
		if *update {
			if err := os.WriteFile(filepath.FromSlash(docsOpenAPI), OpenAPI, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rec := f.get("/v1/openapi.json", nil, "")
		docs, err := os.ReadFile(filepath.FromSlash(docsOpenAPI))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), docs) {
			t.Errorf("GET /v1/openapi.json differs from docs/openapi.json (status %d); run go test ./server/api -run TestOpenAPI -update", rec.Code)
		}
	})
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	t.Run("the document is OpenAPI 3", func(t *testing.T) {
		if !strings.HasPrefix(doc.OpenAPI, "3.") {
			t.Errorf("openapi %q", doc.OpenAPI)
		}
	})
	a := &api{}
	served := map[string]bool{}
	for _, rt := range a.routes() {
		method := strings.ToLower(rt.method)
		if method == "" {
			method = "get"
		}
		served[rt.doc+" "+method] = true
		t.Run(rt.pattern+" is documented", func(t *testing.T) {
			if _, ok := doc.Paths[rt.doc][method]; !ok {
				t.Errorf("paths[%q].%s missing", rt.doc, method)
			}
		})
	}
	t.Run("every documented operation is served", func(t *testing.T) {
		for path, ops := range doc.Paths {
			for method := range ops {
				if !served[path+" "+method] {
					t.Errorf("%s %s is documented but not served", method, path)
				}
			}
		}
	})
}
