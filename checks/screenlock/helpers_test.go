package screenlock

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func testdata(t *testing.T, goos, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", goos, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// collectAndEvaluate runs the collector on h and evaluates its facts
// against the default thresholds, failing the test on a collector error.
func collectAndEvaluate(t *testing.T, h host.Host) (checks.Result, *Facts) {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	res := Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: DefaultThresholds(), Now: time.Unix(0, 0)})
	return res, &f
}
