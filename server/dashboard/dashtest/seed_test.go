package dashtest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/decision"
)

// TestFixturesFitTheirDevices holds the seeded reports to their intent:
// a compliant device of each OS fails nothing at Now, a device with
// Failing controls fails exactly those, and a non-compliant one fails
// most controls.
func TestFixturesFitTheirDevices(t *testing.T) {
	pol := checks.DefaultPolicy()
	for _, goos := range []string{"linux", "windows", "darwin"} {
		fx, err := collect(context.Background(), []Device{{OS: goos}})
		if err != nil {
			t.Fatal(err)
		}
		failing := func(rep *checks.Report) []checks.ControlID {
			rep.CollectedAt = Now
			return decision.Failing(checks.Evaluate(rep, pol, Now), pol)
		}
		t.Run("a compliant "+goos+" device fails nothing", func(t *testing.T) {
			if diff := cmp.Diff([]checks.ControlID(nil), failing(fx[goos].good)); diff != "" {
				t.Errorf("failing controls (-want +got):\n%s", diff)
			}
		})
		t.Run("a non-compliant "+goos+" device fails most controls", func(t *testing.T) {
			if got := failing(fx[goos].bad); len(got) < len(checks.AllControlIDs)/2 {
				t.Errorf("fails only %v", got)
			}
		})
		t.Run("a "+goos+" device with failable controls off fails only those", func(t *testing.T) {
			for _, id := range failable {
				rep := *fx[goos].good
				rep.Observations = nil
				for i, o := range fx[goos].good.Observations {
					if o.ID == id {
						o = fx[goos].bad.Observations[i]
					}
					rep.Observations = append(rep.Observations, o)
				}
				if diff := cmp.Diff([]checks.ControlID{id}, failing(&rep)); diff != "" {
					t.Errorf("with %s off, failing (-want +got):\n%s", id, diff)
				}
			}
		})
	}
}
