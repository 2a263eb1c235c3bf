package bundle

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite docs/bundle.md's lists from contents.go")

const (
	docBegin = "<!-- begin bundle lists -->\n"
	docEnd   = "<!-- end bundle lists -->\n"
)

// TestBundleDocIsMadeFromTheLists keeps docs/bundle.md saying what the
// bundle's own lists say (the lists the privacy note and the bundle's
// README are made from), so the three cannot drift apart.
func TestBundleDocIsMadeFromTheLists(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "bundle.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q region", path, docBegin, docEnd)
	}
	got, want := doc[i+len(docBegin):j], Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(doc[:i+len(docBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s differs from bundle.Markdown() (-want +got); run go test ./agent/bundle -run TestBundleDoc -update:\n%s", path, diff)
	}
	for _, e := range Holds {
		if !strings.Contains(Summary(), e.What) {
			t.Errorf("the privacy note leaves out %s", e.What)
		}
	}
}
