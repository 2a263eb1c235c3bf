package ospatched

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/osdata"
)

func TestTimesInTheFutureAreNotBelieved(t *testing.T) {
	windows := osdata.Identity{Platform: "windows", Version: "26100", Patch: "9711"}
	eval := func(f Facts) checks.Result {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return Evaluate(checks.EvalInput{OS: "windows", Facts: b, Thresholds: DefaultThresholds(), Now: now})
	}
	t.Run("a last patch days ahead does not make an undated pending update recent", func(t *testing.T) {
		res := eval(Facts{OS: osdata.Identity{Platform: "ubuntu", Version: "24.04"},
			Pending:   &Pending{Security: 3, Source: "apt-get -s dist-upgrade", CheckedAt: now},
			LastPatch: &Stamp{At: now.Add(30 * 24 * time.Hour), Source: "/var/log/apt/history.log"}})
		if res.Status == checks.StatusPass {
			t.Errorf("passed on a future last patch: %q", res.Summary)
		}
		if res.Evidence["last_patch_ignored"] == nil {
			t.Errorf("evidence does not say the last patch was ignored: %v", res.Evidence)
		}
	})
	t.Run("a last patch a few hours ahead (a clock off) still counts", func(t *testing.T) {
		res := eval(Facts{OS: windows, PendingError: "search not run", LastPatch: &Stamp{At: now.Add(3 * time.Hour), Source: "Win32_QuickFixEngineering"}})
		if res.Evidence["last_patch_ignored"] != nil {
			t.Errorf("a 3-hour skew was ignored: %v", res.Evidence)
		}
	})
	t.Run("a metadata refresh days ahead is unknown, not fresh", func(t *testing.T) {
		res := eval(Facts{OS: windows, Pending: &Pending{Security: 0, Source: "Windows Update", CheckedAt: now},
			LastRefresh: &Stamp{At: now.Add(10 * 24 * time.Hour), Source: "Windows Update last search"}})
		if res.Status != checks.StatusUnknown || !strings.Contains(res.Summary, "is in the future") {
			t.Errorf("got %s %q", res.Status, res.Summary)
		}
	})
}
