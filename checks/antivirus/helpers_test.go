package antivirus

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// wmiRows decodes a PowerShell ConvertTo-Json sample the way the live
// host does: an object is one row, an array several, numbers exact.
func wmiRows(t testing.TB, name string) []map[string]any {
	t.Helper()
	b := bytes.TrimSpace(bytes.TrimPrefix(checktest.Testdata(t, name), []byte("\xef\xbb\xbf")))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if b[0] == '{' {
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			t.Fatal(err)
		}
		return []map[string]any{row}
	}
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// want is what a table test expects of a collected machine.
type want struct {
	status      checks.Status
	summary     []string // substrings of the summary
	remediation string   // substring of the remediation, on fail
}

// check collects h, evaluates at now with the default thresholds (or th)
// and compares.
func check(t *testing.T, h host.Host, collectedAt, now time.Time, th *Thresholds, w want) Facts {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	var thr any = DefaultThresholds()
	if th != nil {
		thr = th
	}
	res := Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: thr, CollectedAt: collectedAt, Now: now})
	if res.Status != w.status {
		t.Errorf("status = %s (%s), want %s\nfacts: %s", res.Status, res.Summary, w.status, b)
	}
	for _, s := range w.summary {
		if !strings.Contains(res.Summary, s) {
			t.Errorf("summary %q does not mention %q", res.Summary, s)
		}
	}
	if w.remediation != "" && !strings.Contains(res.Remediation, w.remediation) {
		t.Errorf("remediation %q does not mention %q", res.Remediation, w.remediation)
	}
	if res.Status == checks.StatusFail && res.Remediation == "" {
		t.Error("a failing control has no remediation")
	}
	if res.Status != checks.StatusUnknown && len(res.Evidence) == 0 {
		t.Error("no evidence")
	}
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func fakeOS(goos string) host.Host { return host.NewFake(goos, "amd64") }
