package passwordprotected

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

// collectedAt is when the test machines were "checked": day 20454 since
// 1970, after the hand-written olduser account expired (day 20200).
var collectedAt = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

func testdata(t *testing.T, goos, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", goos, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// run collects from h and evaluates the facts as of collectedAt.
func run(t *testing.T, h host.Host) (checks.Result, *Facts, error) {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		return checks.Result{}, nil, err
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, CollectedAt: collectedAt, Now: collectedAt}), &f, nil
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
