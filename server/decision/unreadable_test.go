package decision

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/store"
)

// TestUnreadableReportIsUnknownNotAnError: a stored report whose body no
// longer decodes makes its device's controls unknown with the reason, the
// same on every path, and the fleet's other devices are still decided.
func TestUnreadableReportIsUnknownNotAnError(t *testing.T) {
	e := newEngineEnv(t, "")
	e.enroll("good", "")
	e.enroll("bad", "")
	e.report("good")
	e.seq++
	if _, err := e.st.IngestReport(context.Background(), store.Ingest{Report: store.Report{DeviceID: "bad", Sequence: e.seq, Hash: "h",
		CollectedAt: e.now, ReceivedAt: e.now, Body: []byte(`{"observations": [{"id": "firewall", "fac`)}}); err != nil {
		t.Fatal(err)
	}
	all, err := e.eng.All(context.Background())
	if err != nil {
		t.Fatalf("one unreadable report failed the whole fleet: %v", err)
	}
	if !all["good"].Allow {
		t.Errorf("the readable device is not allowed: %+v", all["good"].Reasons)
	}
	bad := all["bad"]
	if bad.Allow || len(bad.Reasons) != len(checks.AllControlIDs) {
		t.Fatalf("the unreadable device: allow %v, %d reasons; want denied with every control unknown", bad.Allow, len(bad.Reasons))
	}
	for _, r := range bad.Reasons {
		if r.Code != CodeControlUnknown || !strings.Contains(r.Message, "cannot read its stored report") {
			t.Errorf("reason %+v: want %s saying the report cannot be read", r, CodeControlUnknown)
		}
	}
	cur, err := e.eng.Current(context.Background(), "bad")
	if err != nil {
		t.Fatal(err)
	}
	served := e.decide("bad")
	for name, d := range map[string]Decision{"Current": cur, "Decide": served} {
		if diff := cmp.Diff(bad.Reasons, d.Reasons); diff != "" {
			t.Errorf("%s disagrees with All (-All +%s):\n%s", name, name, diff)
		}
	}
}
