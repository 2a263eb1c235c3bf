package decision

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

type staticPolicies struct{ s *policy.Set }

func (p *staticPolicies) Current() *policy.Set { return p.s }

type engineEnv struct {
	t      testing.TB
	st     store.Store
	now    time.Time
	seq    uint64
	pols   *staticPolicies
	index  *exceptions.Index
	log    *audit.Log
	feed   *events.Feed
	events <-chan events.Event
	eng    *Engine
	// postures is the engine's posture cache; its entries live an hour,
	// so only writes through st refresh them.
	postures *PostureCache
}

func mustSet(t testing.TB, yaml string) *policy.Set {
	t.Helper()
	s, err := policy.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newEngineEnv(t testing.TB, yaml string) *engineEnv {
	t.Helper()
	raw, err := store.OpenSQLite(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return newEngineEnvOn(t, yaml, raw)
}

// newEngineEnvOn is newEngineEnv over an open store.
func newEngineEnvOn(t testing.TB, yaml string, raw store.Store) *engineEnv {
	t.Helper()
	// Every engine test decides through the posture cache, as the server
	// does, so that grace periods, report age, inactivity and exception
	// expiry are shown to be computed at request time from cached data.
	pc := NewPostureCache(time.Hour)
	st := ForgetOnWrite(raw, pc)
	e := &engineEnv{t: t, st: st, now: t0, pols: &staticPolicies{mustSet(t, yaml)}, postures: pc}
	e.pols.s.Version = 1
	clock := func() time.Time { return e.now }
	e.log = audit.New(st, clock, nil)
	e.index = exceptions.NewIndex(st, clock, nil)
	e.listen(t)
	e.eng = NewEngine(EngineConfig{Store: st, Policies: e.pols, Index: e.index, Postures: pc, Audit: e.log, Now: clock})
	return e
}

func (e *engineEnv) enroll(id, org string) {
	e.t.Helper()
	ctx := context.Background()
	_, tok, err := store.NewEnrollToken([32]byte{}, time.Hour, org, "alice", e.now)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.CreateToken(ctx, tok); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.Enroll(ctx, tok.Hash, store.Device{ID: id, CertSHA256: "sha-" + id, CertNotAfter: e.now.Add(24 * time.Hour)}, e.now); err != nil {
		e.t.Fatal(err)
	}
}

// report stores a report in which every control passes except failing.
func (e *engineEnv) report(id string, failing ...checks.ControlID) {
	e.t.Helper()
	r := &checks.Report{CollectedAt: e.now}
	for _, c := range checks.AllControlIDs {
		facts := `{"ok":true}`
		if slices.Contains(failing, c) {
			facts = `{"ok":false}`
		}
		r.Observations = append(r.Observations, checks.Observation{ID: c, Facts: json.RawMessage(facts)})
	}
	body, _ := json.Marshal(r)
	e.seq++
	p := e.pols.s.For("").Policy
	_, err := e.st.IngestReport(context.Background(), store.Ingest{
		Report:  store.Report{DeviceID: id, Sequence: e.seq, Hash: "h", CollectedAt: e.now, ReceivedAt: e.now, Body: body},
		Failing: Failing(checks.Evaluate(r, p, e.now), p)})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *engineEnv) decide(id string) Decision {
	e.t.Helper()
	d, err := e.eng.Decide(context.Background(), Lookup{DeviceID: id}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	// A change is recorded off the decision path; the tests look at it.
	if err := e.eng.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// listen gives the env a new event bus fed from the store's audit log, as
// a server (re)starting does.
func (e *engineEnv) listen(t testing.TB) {
	t.Helper()
	bus := events.NewBus(func() time.Time { return e.now })
	t.Cleanup(bus.Close)
	e.feed = events.NewFeed(e.st, bus, nil)
	if err := e.feed.Prime(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.events, _ = bus.Subscribe(t.Context(), 0)
}

// nextEvent returns the next event the audit log holds beyond those
// returned before, or false if there is none.
func (e *engineEnv) nextEvent() (events.Event, bool) {
	e.t.Helper()
	if err := e.feed.Sync(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	select {
	case ev := <-e.events:
		return ev, true
	default:
		return events.Event{}, false
	}
}

func (e *engineEnv) auditKinds() []string {
	rows, err := e.st.AuditRows(context.Background(), 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Kind)
	}
	return out
}

func TestEngineChanges(t *testing.T) {
	e := newEngineEnv(t, "")
	e.enroll("dev", "clinic-a")
	e.report("dev")
	if err := e.eng.Sweep(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.nextEvent(); ok {
		t.Fatal("the silent baseline published an event")
	}
	t.Run("a report that fails a control publishes a compliance change and audits it", func(t *testing.T) {
		e.now = e.now.Add(time.Minute)
		e.report("dev", checks.WiFiEncryption)
		if err := e.eng.Reevaluate(t.Context(), "dev"); err != nil {
			t.Fatal(err)
		}
		ev, ok := e.nextEvent()
		if !ok {
			t.Fatal("no event")
		}
		if ev.Kind != events.KindComplianceChange || ev.DeviceID != "dev" || ev.CertSHA256 != "sha-dev" || ev.Org != "clinic-a" ||
			ev.PreviousStatus != events.StatusCompliant || ev.CurrentStatus != events.StatusNotCompliant ||
			!slices.Equal(ev.ReasonCodes, []string{"control_failed:wifi_encryption"}) || !ev.EventTime.Equal(e.now) {
			t.Errorf("event = %+v", ev)
		}
		if !slices.Contains(e.auditKinds(), audit.KindDecisionChanged) {
			t.Error("the change was not audited")
		}
	})
	t.Run("the same decision again publishes nothing", func(t *testing.T) {
		e.decide("dev")
		e.eng.Sweep(t.Context(), false)
		if ev, ok := e.nextEvent(); ok {
			t.Errorf("unexpected event %+v", ev)
		}
	})
	t.Run("an organization exception allows the device and publishes the change", func(t *testing.T) {
		svc := exceptions.NewService(e.st, e.log, func() time.Time { return e.now })
		_, err := svc.Grant(t.Context(), exceptions.Grant{Scope: store.ScopeOrg, Subject: "clinic-a", Control: checks.WiFiEncryption,
			Reason: "hotel Wi-Fi during the conference", Approver: "carol", ExpiresAt: e.now.Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.index.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		d := e.decide("dev")
		if !d.Allow || !hasWarning(d, CodeExceptionApplied) {
			t.Errorf("decision = %+v", d)
		}
		if ev, ok := e.nextEvent(); !ok || ev.CurrentStatus != events.StatusCompliant {
			t.Errorf("event = %+v, %v; want compliant", ev, ok)
		}
	})
	t.Run("the exception stops applying at its expiry without a refresh", func(t *testing.T) {
		e.now = e.now.Add(49 * time.Hour)
		e.report("dev", checks.WiFiEncryption) // keep the report fresh
		if d := e.decide("dev"); d.Allow {
			t.Errorf("allowed after the exception expired: %+v", d)
		}
	})
	t.Run("a revocation made elsewhere is denied at once and published by the sweep", func(t *testing.T) {
		e.nextEvent()
		e.report("dev")
		e.decide("dev")
		e.nextEvent()
		if err := e.st.Revoke(t.Context(), "dev", e.now); err != nil {
			t.Fatal(err)
		}
		if d := e.decide("dev"); d.Allow || d.Reasons[0].Code != CodeDeviceRevoked {
			t.Errorf("decision = %+v", d)
		}
		if ev, ok := e.nextEvent(); !ok || !slices.Equal(ev.ReasonCodes, []string{CodeDeviceRevoked}) {
			t.Errorf("event = %+v, %v", ev, ok)
		}
	})
}

func TestEngineLifecycle(t *testing.T) {
	t.Run("a device silent for 90 days is denied as inactive even with a fresh policy", func(t *testing.T) {
		e := newEngineEnv(t, "")
		e.enroll("dev", "")
		e.report("dev")
		e.now = e.now.Add(InactiveAfter + time.Hour)
		if d := e.decide("dev"); d.Allow || d.Reasons[0].Code != CodeDeviceInactive {
			t.Errorf("decision = %+v", d)
		}
	})
	t.Run("the organization's profile decides for its devices", func(t *testing.T) {
		e := newEngineEnv(t, "profiles:\n  lab:\n    controls:\n      firewall:\n        enforcement: report\n")
		e.enroll("lab1", "lab")
		e.enroll("ward1", "ward")
		e.report("lab1", checks.Firewall)
		e.report("ward1", checks.Firewall)
		if d := e.decide("lab1"); !d.Allow {
			t.Errorf("lab device denied: %+v", d.Reasons)
		}
		if d := e.decide("ward1"); d.Allow {
			t.Error("ward device allowed")
		}
	})
	t.Run("without an attestation a device is allowed with a warning during the grace, then denied", func(t *testing.T) {
		e := newEngineEnv(t, "")
		e.enroll("dev", "")
		e.report("dev")
		if d := e.decide("dev"); !d.Allow || !hasWarning(d, CodeAttestationDue) {
			t.Fatalf("within the grace: decision = %+v", d)
		}
		e.now = e.now.Add(8 * 24 * time.Hour)
		e.report("dev")
		if d := e.decide("dev"); d.Allow || d.Reasons[0].Code != CodeAttestationMissing {
			t.Fatalf("after the grace: decision = %+v", d)
		}
	})
	t.Run("a required attestation is looked up in the index", func(t *testing.T) {
		e := newEngineEnv(t, "attestation:\n  required: true\n  grace: 0s\n")
		e.enroll("dev", "")
		e.report("dev")
		if d := e.decide("dev"); d.Allow || d.Reasons[0].Code != CodeAttestationMissing {
			t.Fatalf("decision = %+v", d)
		}
		svc := exceptions.NewService(e.st, e.log, func() time.Time { return e.now })
		if _, err := svc.Attest(t.Context(), "dev", "alice", "2025-1", "carol"); err != nil {
			t.Fatal(err)
		}
		e.index.Refresh(t.Context())
		if d := e.decide("dev"); !d.Allow {
			t.Errorf("denied after attesting: %+v", d.Reasons)
		}
	})
	t.Run("an unknown device is denied and not tracked", func(t *testing.T) {
		e := newEngineEnv(t, "")
		if d := e.decide("ghost"); d.Allow || d.Reasons[0].Code != CodeDeviceUnknown {
			t.Errorf("decision = %+v", d)
		}
		if len(e.eng.last) != 0 {
			t.Error("an unknown device was tracked")
		}
	})
}

func TestEngineImpact(t *testing.T) {
	e := newEngineEnv(t, "controls:\n  firewall:\n    enforcement: report\n")
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		e.enroll(id, "")
	}
	e.report("a", checks.Firewall)
	e.report("b", checks.Firewall)
	e.report("c")
	e.report("d")
	e.report("e", checks.Firewall)
	e.st.Revoke(t.Context(), "e", e.now)
	imp, err := e.eng.Impact(t.Context(), e.pols.s, mustSet(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if imp.Active != 4 || imp.NewlyDenied != 2 || imp.Share != 0.5 || !slices.Equal(imp.Examples, []string{"a", "b"}) {
		t.Errorf("impact = %+v, want 2 of 4 active devices newly denied (a, b)", imp)
	}
}

func hasWarning(d Decision, code string) bool {
	for _, w := range d.Warnings {
		if w.Code == code {
			return true
		}
	}
	return false
}
