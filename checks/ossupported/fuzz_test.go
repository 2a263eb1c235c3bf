package ossupported

import (
	"encoding/json"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The targets below put fuzzed os-release files and Ubuntu Pro status
// documents on a fake host and run the collector and the evaluator: any
// input must give a status with a summary, unknown with a reason.

func collectEval(t *testing.T, h host.Host) checks.Result {
	t.Helper()
	return checktest.CollectEval(t, h, Collect, Evaluate, checks.EvalInput{Thresholds: DefaultThresholds(), Now: now})
}

func FuzzCollectOSRelease(f *testing.F) {
	checktest.AddSeeds(f, "linux", "os-release__")
	f.Fuzz(func(t *testing.T, b []byte) {
		r := collectEval(t, host.NewFake("linux", "amd64").AddFile("/etc/os-release", b))
		checktest.CheckResult(t, r)
	})
}

func FuzzCollectUbuntuPro(f *testing.F) {
	checktest.AddSeeds(f, "linux", "pro-status-json__")
	checktest.AddSeeds(f, "linux", "ubuntu-advantage-status__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", checktest.Testdata(t, "linux", "os-release__ubuntu2004.txt")).
			AddFile(proStatusPath, b)
		r := collectEval(t, h)
		checktest.CheckResult(t, r)
		// Ubuntu 20.04 is past its standard support: only an enabled
		// ESM service in a readable, attached status can pass it.
		var st proStatus
		if r.Status == checks.StatusPass && (json.Unmarshal(b, &st) != nil || !st.Attached) {
			t.Fatalf("passes without an attached Ubuntu Pro status: %s", r.Summary)
		}
	})
}
