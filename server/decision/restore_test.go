package decision

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/store"
)

// restart replaces the env's engine by a new one over the same store, as a
// server restart does, with a fresh event bus; restore says whether the new
// engine loads the stored decisions first.
func (e *engineEnv) restart(t *testing.T, restore bool) {
	t.Helper()
	clock := func() time.Time { return e.now }
	e.listen(t)
	e.eng = NewEngine(EngineConfig{Store: e.st, Policies: e.pols, Index: e.index, Postures: e.postures, Audit: e.log, Now: clock})
	if restore {
		if err := e.eng.Restore(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEngineRestoreAnnouncesChangesMadeWhileDown(t *testing.T) {
	e := newEngineEnv(t, "")
	e.enroll("stale", "")
	e.enroll("steady", "")
	e.report("stale")
	e.report("steady")
	// Both are decided once before the "restart": allowed, and stored.
	if err := e.eng.Sweep(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if ev, ok := e.nextEvent(); ok {
		t.Fatalf("a first decision was announced: %+v", ev)
	}

	// The server is down for 20 minutes; "steady" reported just before it
	// came back, "stale" did not.
	e.now = e.now.Add(20 * time.Minute)
	e.report("steady")
	// "new" enrolled in the meantime (with another server of the same
	// store): it has no stored decision, so its first is only recorded.
	e.enroll("new", "")
	e.report("new")
	e.restart(t, true)
	if err := e.eng.Sweep(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	ev, ok := e.nextEvent()
	if !ok {
		t.Fatal("the decision that changed while the server was down was not announced")
	}
	if ev.DeviceID != "stale" || ev.PreviousStatus != events.StatusCompliant || ev.CurrentStatus != events.StatusNotCompliant ||
		!slices.Equal(ev.ReasonCodes, []string{CodeReportStale}) {
		t.Errorf("event = %+v", ev)
	}
	if ev, ok := e.nextEvent(); ok {
		t.Errorf("unchanged or first-seen devices were announced: %+v", ev)
	}

	// A second restart has nothing new to say: the announced decision
	// was stored, including the first one of "new".
	e.restart(t, true)
	if err := e.eng.Sweep(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if ev, ok := e.nextEvent(); ok {
		t.Errorf("a restart with no change announced %+v", ev)
	}
	stored, err := e.st.LastDecisions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, d := range stored {
		got[d.DeviceID] = d.Allow
	}
	if len(got) != 3 || got["stale"] || !got["steady"] || !got["new"] {
		t.Errorf("stored decisions = %+v", stored)
	}
}

// An engine compares with the stored decision, not only with its memory:
// Restore merely saves it the reads. A replica that has not yet decided
// for a device (enrolled through another replica since it started) still
// announces the device's change, once.
func TestEngineWithoutRestoreComparesWithTheStore(t *testing.T) {
	e := newEngineEnv(t, "")
	e.enroll("dev", "")
	e.report("dev")
	e.decide("dev")
	e.now = e.now.Add(20 * time.Minute)
	e.restart(t, false)
	if err := e.eng.Sweep(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	ev, ok := e.nextEvent()
	if !ok || ev.DeviceID != "dev" || ev.CurrentStatus != events.StatusNotCompliant {
		t.Fatalf("event = %+v, %v; want the stored allow to turn into a deny", ev, ok)
	}
	e.restart(t, false)
	if err := e.eng.Sweep(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if ev, ok := e.nextEvent(); ok {
		t.Errorf("the change was announced twice: %+v", ev)
	}
}

// failingAudit refuses to record decision changes while fail is set.
type failingAudit struct {
	store.Store
	fail bool
}

func (f *failingAudit) SwapLastDecisions(ctx context.Context, swaps []store.DecisionSwap, seal store.AuditSeal) ([]store.SwapOutcome, error) {
	if f.fail {
		return nil, errors.New("disk full")
	}
	return f.Store.SwapLastDecisions(ctx, swaps, seal)
}

func TestEngineAnnouncesAgainWhenTheAuditLogRefused(t *testing.T) {
	e := newEngineEnv(t, "")
	fa := &failingAudit{Store: e.st}
	e.eng = NewEngine(EngineConfig{Store: e.st, Policies: e.pols, Postures: e.postures, Audit: audit.New(fa, func() time.Time { return e.now }, nil),
		Now: func() time.Time { return e.now }})
	e.enroll("dev", "")
	e.report("dev")
	e.decide("dev")
	e.now = e.now.Add(20 * time.Minute)
	fa.fail = true
	e.decide("dev")
	if ev, ok := e.nextEvent(); ok {
		t.Fatalf("an unrecorded change was announced: %+v", ev)
	}
	stored, _ := e.st.LastDecisions(t.Context())
	if len(stored) != 1 || !stored[0].Allow {
		t.Errorf("stored = %+v, want the previous decision kept", stored)
	}
	fa.fail = false
	e.decide("dev")
	if ev, ok := e.nextEvent(); !ok || ev.CurrentStatus != events.StatusNotCompliant {
		t.Errorf("event = %+v, %v; want the change announced once the log takes it", ev, ok)
	}
}
