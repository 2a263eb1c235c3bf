package osautoupdate

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// auPolicyValues turns `Get-ItemProperty` output of the AU policy key
// ("Name : value" lines) into the REG_DWORD answers the collector reads.
// The real capture was published in this list form; every value of that
// key is a DWORD. Lines without a number ("(default)") are skipped.
func auPolicyValues(t *testing.T, b []byte) map[string]uint64 {
	t.Helper()
	vals := map[string]uint64{}
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
			vals[strings.TrimSpace(name)] = n
		}
	}
	return vals
}

// TestCollectWindowsRealAUPolicy replays the AU policy a Kubernetes
// Windows node image sets (kubernetes/kubernetes#123916): NoAutoUpdate 1
// turns automatic updates off whatever AUOptions says. The wuauserv start
// type (3, manual: Windows' default) is hand-written.
func TestCollectWindowsRealAUPolicy(t *testing.T) {
	vals := auPolicyValues(t, checktest.Testdata(t, "windows", "get-itemproperty-au__noautoupdate_k8s123916.txt"))
	if vals["NoAutoUpdate"] != 1 || vals["AUOptions"] != 3 {
		t.Fatalf("values = %v", vals)
	}
	h := host.NewFake("windows", "amd64").AddRegistry(wuauservKey, "Start", host.RegistryValue{Type: "REG_DWORD", Integer: 3}, nil)
	for name, n := range vals {
		h.AddRegistry(auPolicyKey, name, host.RegistryValue{Type: "REG_DWORD", Integer: n}, nil)
	}
	facts, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	m := f.Mechanisms[0]
	if m.Level != LevelOff || m.Settings["AUOptions"] != `3 (`+auPolicyKey+`)` || m.Settings["NoAutoUpdate"] != `1 (`+auPolicyKey+`)` {
		t.Errorf("mechanism = %+v, want off with both policy values recorded", m)
	}
	res := Evaluate(checks.EvalInput{OS: "windows", Facts: b, Thresholds: &Thresholds{Require: LevelDownload}, Now: now})
	if res.Status != checks.StatusFail || !strings.Contains(res.Summary, "NoAutoUpdate is 1") || res.Remediation == "" {
		t.Errorf("got %s %q (remediation %q), want a fail naming NoAutoUpdate", res.Status, res.Summary, res.Remediation)
	}
}
