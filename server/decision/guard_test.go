package decision

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/policy"
)

// TestMassFailureGuard runs the policy manager with the engine's impact:
// a change that would deny half the fleet is held and the old policy keeps
// deciding; a change that denies one device in ten goes through.
func TestMassFailureGuard(t *testing.T) {
	e := newEngineEnv(t, "")
	path := filepath.Join(t.TempDir(), "policy.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("controls:\n  firewall:\n    enforcement: report\n  screen_lock:\n    enforcement: report\n")
	ids := []string{"d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9"}
	for i, id := range ids {
		e.enroll(id, "")
		switch {
		case i < 5:
			e.report(id, checks.Firewall) // half the fleet has its firewall off
		case i == 5:
			e.report(id, checks.ScreenLock) // one device has a long screen lock
		default:
			e.report(id)
		}
	}
	m, err := policy.NewManager(t.Context(), policy.Config{Path: path, Store: e.st, Audit: e.log, Impact: e.eng.Impact,
		Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.pols.s = nil
	e.eng.cfg.Policies = m
	t.Run("blocking the firewall would deny half the fleet and is held", func(t *testing.T) {
		write("controls:\n  screen_lock:\n    enforcement: report\n")
		if err := m.Reload(t.Context()); !errors.Is(err, policy.ErrHeld) {
			t.Fatalf("err = %v, want ErrHeld", err)
		}
		h := m.Status().Held
		if h == nil || h.Impact.NewlyDenied != 5 || h.Impact.Active != 10 {
			t.Fatalf("held = %+v", h)
		}
		if d := e.decide("d0"); !d.Allow {
			t.Errorf("the held policy decided: %+v", d.Reasons)
		}
	})
	t.Run("blocking the screen lock denies one device in ten and is applied", func(t *testing.T) {
		write("controls:\n  firewall:\n    enforcement: report\n")
		if err := m.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d := e.decide("d5"); d.Allow {
			t.Error("the applied policy did not deny d5")
		}
		if d := e.decide("d0"); !d.Allow {
			t.Errorf("d0 denied: %+v", d.Reasons)
		}
	})
}
