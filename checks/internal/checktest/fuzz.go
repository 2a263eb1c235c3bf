package checktest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// AddSeeds adds every regular file testdata/<goos>/<prefix>* of the
// package under test to f's seed corpus, in name order. It fails when no
// file matches, so a renamed sample cannot leave a target without seeds.
func AddSeeds(f *testing.F, goos, prefix string) {
	f.Helper()
	for _, b := range SeedFiles(f, goos, prefix) {
		f.Add(b)
	}
}

// SeedFiles returns the bytes of every regular file
// testdata/<goos>/<prefix>* in name order, failing when none matches;
// targets that take several inputs combine them into seeds themselves.
func SeedFiles(t testing.TB, goos, prefix string) [][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", goos, prefix+"*"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no seeds for testdata/%s/%s*: %v", goos, prefix, err)
	}
	var out [][]byte
	for _, n := range names { // Glob sorts its matches
		if st, err := os.Stat(n); err != nil || !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatalf("read seed: %v", err)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		t.Fatalf("no regular file among testdata/%s/%s*", goos, prefix)
	}
	return out
}

// LineCount is the number of lines a line-oriented parser can find in b
// (one more than its newlines): an upper bound on the records it may
// return.
func LineCount(b []byte) int { return bytes.Count(b, []byte("\n")) + 1 }

// CheckResult fails t unless r is what any evaluation must give: a known
// status, a summary, and for unknown a reason after "could not be
// determined:". When statuses are given, r's status must be one of them
// (a control that never applies "not applicable" names the other three).
func CheckResult(t testing.TB, r checks.Result, statuses ...checks.Status) {
	t.Helper()
	switch r.Status {
	case checks.StatusPass, checks.StatusFail, checks.StatusUnknown, checks.StatusNotApplicable:
	default:
		t.Fatalf("status %q is not a status", r.Status)
	}
	if len(statuses) > 0 && !slices.Contains(statuses, r.Status) {
		t.Fatalf("status %q is not one of %q: %q", r.Status, statuses, r.Summary)
	}
	if strings.TrimSpace(r.Summary) == "" {
		t.Fatalf("%s with an empty summary", r.Status)
	}
	if r.Status == checks.StatusUnknown && strings.TrimSpace(strings.TrimPrefix(r.Summary, unknownPrefix)) == "" {
		t.Fatalf("unknown without a reason: %q", r.Summary)
	}
}

// unknownPrefix starts every unknown summary; the reason follows it.
var unknownPrefix = strings.TrimSpace(checks.Unknown("").Summary)

// CollectEval collects facts from h with collect, encodes them as the
// agent sends them and evaluates them with evaluate on in, whose OS and
// Facts it fills in. A collector error gives the unknown the agent
// reports for it.
func CollectEval(t testing.TB, h host.Host, collect func(context.Context, host.Host) (any, error), evaluate func(checks.EvalInput) checks.Result, in checks.EvalInput) checks.Result {
	t.Helper()
	facts, err := collect(context.Background(), h)
	if err != nil {
		return checks.Unknown(err.Error())
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatalf("encode facts: %v", err)
	}
	in.OS, in.Facts = h.GOOS(), b
	return evaluate(in)
}

// CollectFacts collects facts from h with collect and passes them
// through JSON as RoundTrip does, for targets that check the typed facts
// as well as the verdict. A collector error must say why; ok is then
// false, as the agent reports the control unknown with that reason.
func CollectFacts[F any](t testing.TB, h host.Host, collect func(context.Context, host.Host) (any, error)) (b []byte, facts *F, ok bool) {
	t.Helper()
	got, err := collect(context.Background(), h)
	if err != nil {
		if err.Error() == "" {
			t.Fatalf("collect failed without a reason")
		}
		return nil, nil, false
	}
	b, facts = RoundTrip[F](t, got)
	return b, facts, true
}
