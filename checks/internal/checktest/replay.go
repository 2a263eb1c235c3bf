package checktest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// Replay collects facts from h with collect (an error fails the test:
// replayed hosts answer everything the collector asks), encodes them as
// the agent sends them and evaluates them with evaluate on in, whose OS
// and Facts it fills in. It returns the result and the encoded facts.
func Replay(t testing.TB, h host.Host, collect func(context.Context, host.Host) (any, error), evaluate func(checks.EvalInput) checks.Result, in checks.EvalInput) (checks.Result, []byte) {
	t.Helper()
	facts, err := collect(context.Background(), h)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatalf("encode facts: %v", err)
	}
	in.OS, in.Facts = h.GOOS(), b
	return evaluate(in), b
}

// Expect fails t unless res has status want and a summary containing
// inSummary, and, when it fails, a remediation; facts are printed with a
// mismatch.
func Expect(t testing.TB, res checks.Result, want checks.Status, inSummary string, facts []byte) {
	t.Helper()
	if res.Status != want || !strings.Contains(res.Summary, inSummary) {
		t.Errorf("got %s %q, want %s mentioning %q\nfacts %s", res.Status, res.Summary, want, inSummary, facts)
	}
	if res.Status == checks.StatusFail && res.Remediation == "" {
		t.Error("a failure has no remediation")
	}
}
