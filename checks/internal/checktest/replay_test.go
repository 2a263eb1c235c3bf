package checktest

import (
	"context"
	"fmt"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// errRecorder stands in for a test and records its errors.
type errRecorder struct {
	testing.TB
	errors []string
}

func (r *errRecorder) Helper()           {}
func (r *errRecorder) Error(args ...any) { r.errors = append(r.errors, fmt.Sprint(args...)) }
func (r *errRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestReplayAndExpect(t *testing.T) {
	h := host.NewFake("linux", "amd64")
	collect := func(context.Context, host.Host) (any, error) { return map[string]int{"n": 1}, nil }
	var seen checks.EvalInput
	evaluate := func(in checks.EvalInput) checks.Result {
		seen = in
		return checks.Result{Status: checks.StatusFail, Summary: "n is 1", Remediation: "fix n"}
	}
	res, b := Replay(t, h, collect, evaluate, checks.EvalInput{})
	if seen.OS != "linux" || string(seen.Facts) != `{"n":1}` || string(b) != `{"n":1}` {
		t.Errorf("evaluated %s %s, returned %s", seen.OS, seen.Facts, b)
	}
	Expect(t, res, checks.StatusFail, "is 1", b)
	rec := &errRecorder{TB: t}
	Expect(rec, checks.Result{Status: checks.StatusFail, Summary: "n is 1"}, checks.StatusPass, "n", b)
	if len(rec.errors) != 2 {
		t.Errorf("Expect reported %q, want the wrong status and the missing remediation", rec.errors)
	}
}
