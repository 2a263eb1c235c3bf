package passwordprotected

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func TestEvaluateEdges(t *testing.T) {
	t.Run("undecodable facts are unknown", func(t *testing.T) {
		if res := Evaluate(checks.EvalInput{Facts: json.RawMessage(`{"accounts":"many"}`)}); res.Status != checks.StatusUnknown {
			t.Errorf("status = %s", res.Status)
		}
	})
	t.Run("facts without an accounts source never pass", func(t *testing.T) {
		b, _ := json.Marshal(Facts{})
		if res := Evaluate(checks.EvalInput{Facts: b}); res.Status != checks.StatusUnknown {
			t.Errorf("status = %s", res.Status)
		}
	})
	t.Run("an account list that came back empty is unknown, not a pass", func(t *testing.T) {
		// Wine's SAM answers with no interactive accounts at all.
		for _, goos := range []string{"windows", "darwin", "linux"} {
			b, _ := json.Marshal(Facts{AccountsSource: "the account list", AutoLoginSources: []string{"the sign-in settings"}})
			res := Evaluate(checks.EvalInput{OS: goos, Facts: b})
			if res.Status != checks.StatusUnknown {
				t.Errorf("%s: status = %s (%s), want unknown", goos, res.Status, res.Summary)
			}
		}
	})
	t.Run("an OS without a collector says so", func(t *testing.T) {
		if _, err := Collect(context.Background(), host.NewFake("plan9", "amd64")); err == nil {
			t.Error("no error")
		}
	})
}
