package ossupported

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// The targets below put fuzzed os-release files and Ubuntu Pro status
// documents on a fake host and run the collector and the evaluator: any
// input must give a status with a summary, unknown with a reason.

func checkResult(t *testing.T, r checks.Result) {
	t.Helper()
	switch r.Status {
	case checks.StatusPass, checks.StatusFail, checks.StatusUnknown, checks.StatusNotApplicable:
	default:
		t.Fatalf("status %q is not a status", r.Status)
	}
	if strings.TrimSpace(r.Summary) == "" {
		t.Fatalf("%s with an empty summary", r.Status)
	}
	if r.Status == checks.StatusUnknown && strings.TrimSpace(strings.TrimPrefix(r.Summary, "could not be determined:")) == "" {
		t.Fatalf("unknown without a reason: %q", r.Summary)
	}
}

func collectEval(t *testing.T, h host.Host) checks.Result {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		return checks.Unknown(err.Error())
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	return Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: DefaultThresholds(), Now: now})
}

func addSeeds(f *testing.F, pattern string) {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "linux", pattern))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzCollectOSRelease(f *testing.F) {
	addSeeds(f, "os-release__*")
	f.Fuzz(func(t *testing.T, b []byte) {
		r := collectEval(t, host.NewFake("linux", "amd64").AddFile("/etc/os-release", b))
		checkResult(t, r)
	})
}

func FuzzCollectUbuntuPro(f *testing.F) {
	addSeeds(f, "pro-status-json__*")
	addSeeds(f, "ubuntu-advantage-status__*")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", sample(t, "linux", "os-release__ubuntu2004.txt")).
			AddFile(proStatusPath, b)
		r := collectEval(t, h)
		checkResult(t, r)
		// Ubuntu 20.04 is past its standard support: only an enabled
		// ESM service in a readable, attached status can pass it.
		var st proStatus
		if r.Status == checks.StatusPass && (json.Unmarshal(b, &st) != nil || !st.Attached) {
			t.Fatalf("passes without an attached Ubuntu Pro status: %s", r.Summary)
		}
	})
}
