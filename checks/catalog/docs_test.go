package catalog_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
)

// TestPolicyDocumentsEveryThreshold keeps docs/policy.md's table of
// control thresholds complete: every yaml key of every control's
// thresholds must be in it, on that control's rows.
func TestPolicyDocumentsEveryThreshold(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[checks.ControlID]string{}
	var current checks.ControlID
	for line := range strings.SplitSeq(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		if c := strings.Trim(strings.TrimSpace(cells[1]), "`"); c != "" {
			current = checks.ControlID(c)
		}
		rows[current] += cells[2]
	}
	for _, id := range checks.AllControlIDs {
		c, _ := checks.Lookup(id)
		if c.DefaultThresholds == nil {
			continue
		}
		typ := reflect.TypeOf(c.DefaultThresholds()).Elem()
		for i := range typ.NumField() {
			key, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
			if key == "" || key == "-" {
				continue
			}
			if !strings.Contains(rows[id], "`"+key+"`") {
				t.Errorf("docs/policy.md does not document %s.%s", id, key)
			}
		}
	}
}
