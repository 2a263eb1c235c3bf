package catalog_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestControlPackagesShareOneLayout keeps the control packages alike, so
// that one read teaches them all: each registers in control.go, evaluates
// through checks.Evaluator, and its tests read recorded samples only
// through checktest.Testdata.
func TestControlPackagesShareOneLayout(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "*", "control.go"))
	if err != nil {
		t.Fatal(err)
	}
	var controls []string
	for _, c := range dirs {
		controls = append(controls, filepath.Base(filepath.Dir(c)))
	}
	sort.Strings(controls)
	want := []string{"antivirus", "diskenc", "firewall", "osautoupdate", "ospatched", "ossupported", "passwordpolicy", "passwordprotected", "screenlock", "wifienc"}
	if diff := cmp.Diff(want, controls); diff != "" {
		t.Errorf("packages with a control.go (-want +got):\n%s", diff)
	}
	register := regexp.MustCompile(`checks\.Register\(`)
	readsTestdata := regexp.MustCompile(`os\.ReadFile\((filepath\.Join\()?"testdata`)
	for _, pkg := range controls {
		files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		evaluator := false
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(f)
			if register.Match(b) && name != "control.go" {
				t.Errorf("%s/%s registers a control; registration lives in control.go", pkg, name)
			}
			if strings.HasSuffix(name, "_test.go") && readsTestdata.Match(b) {
				t.Errorf("%s/%s reads testdata itself; use checktest.Testdata", pkg, name)
			}
			if name == "evaluate.go" && strings.Contains(string(b), "checks.Evaluator[Facts, ") {
				evaluator = true
			}
		}
		if !evaluator {
			t.Errorf("%s/evaluate.go does not evaluate through checks.Evaluator", pkg)
		}
	}
}
