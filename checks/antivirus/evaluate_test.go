package antivirus

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
)

func evalFacts(t *testing.T, f Facts, th any, now time.Time) checks.Result {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return Evaluate(checks.EvalInput{OS: "linux", Facts: b, Thresholds: th, CollectedAt: now, Now: now})
}

func TestEvaluateThresholds(t *testing.T) {
	now := date("2024-06-27T12:00:00Z")
	built := now.Add(-30 * time.Hour)
	clam := Facts{Products: []Product{{
		Kind: KindClamAV, Name: "ClamAV", RealTime: flag(true, "test"),
		Definitions: &Definitions{Updated: &built, Source: "test"},
	}}}
	edr := Facts{Products: []Product{{
		Kind: KindCrowdStrike, Name: "CrowdStrike Falcon", RealTime: flag(true, "test"), UpToDate: flag(true, "test"),
	}}}
	strict := &Thresholds{MaxDefinitionAge: 24 * time.Hour}
	tests := []struct {
		name   string
		facts  Facts
		policy string
		want   checks.Status
	}{
		{"30-hour-old definitions fail the default 24 h", clam, "", checks.StatusFail},
		{"30-hour-old definitions pass a 48 h policy", clam, "controls:\n  antivirus:\n    max_definition_age: 48h\n", checks.StatusPass},
		{"an up-to-date flag passes by default", edr, "", checks.StatusPass},
		{"an up-to-date flag is unknown when the policy requires an age", edr, "controls:\n  antivirus:\n    accept_up_to_date_flag: false\n", checks.StatusUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := checks.ParsePolicy([]byte(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			res := evalFacts(t, tc.facts, p.Thresholds(checks.Antivirus), now)
			if res.Status != tc.want {
				t.Errorf("status = %s (%s), want %s", res.Status, res.Summary, tc.want)
			}
		})
	}
	t.Run("missing thresholds fall back to the defaults", func(t *testing.T) {
		if res := evalFacts(t, clam, nil, now); res.Status != checks.StatusFail {
			t.Errorf("status = %s", res.Status)
		}
	})
	t.Run("the strict thresholds value validates", func(t *testing.T) {
		if err := strict.Validate(); err != nil {
			t.Error(err)
		}
	})
}

func TestEvaluateEvidence(t *testing.T) {
	now := date("2024-06-27T12:00:00Z")
	built := now.Add(-90 * time.Minute)
	f := Facts{Products: []Product{{
		Kind: KindDefender, Name: "Microsoft Defender Antivirus",
		Mode:        &Mode{Name: "Normal", Protecting: true, Source: "test"},
		RealTime:    flag(true, "test"),
		Definitions: &Definitions{Updated: &built, Source: "test"},
	}}}
	res := evalFacts(t, f, DefaultThresholds(), now)
	want := map[string]any{
		"max_definition_age_hours": 24.0,
		"protecting_product":       "Microsoft Defender Antivirus",
		"definitions_age_hours":    1.5,
		"products":                 []string{"Microsoft Defender Antivirus: mode Normal, real-time scanning on, definitions 1.5 h old"},
	}
	if diff := cmp.Diff(want, res.Evidence); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

func TestEvaluateNeverPassesOnMissingEvidence(t *testing.T) {
	now := date("2024-06-27T12:00:00Z")
	future, farFuture := now.Add(3*time.Hour), now.Add(72*time.Hour)
	tests := []struct {
		name  string
		facts Facts
		want  checks.Status
		say   string
	}{
		{"a product with nothing reported is unknown",
			Facts{Products: []Product{{Kind: KindWSC, Name: "Contoso"}}}, checks.StatusUnknown, "scanning state not reported"},
		{"real-time on without any definitions fact is unknown",
			Facts{Products: []Product{{Kind: KindClamAV, Name: "ClamAV", RealTime: flag(true, "t")}}}, checks.StatusUnknown, "age could not be read"},
		{"definitions dated a few hours in the future (a clock off) count as fresh, not negative",
			Facts{Products: []Product{{Kind: KindClamAV, Name: "ClamAV", RealTime: flag(true, "t"), Definitions: &Definitions{Updated: &future}}}}, checks.StatusPass, "definitions 0 h old"},
		{"definitions dated days in the future are unknown, not fresh",
			Facts{Products: []Product{{Kind: KindClamAV, Name: "ClamAV", RealTime: flag(true, "t"), Definitions: &Definitions{Updated: &farFuture, Source: "daily.cvd"}}}}, checks.StatusUnknown, "72 h after the check (daily.cvd): the device's clock or the product's date is wrong"},
		{"no products but an unreadable source is unknown",
			Facts{Products: []Product{}, Notes: []string{"Windows Security Center: access denied"}}, checks.StatusUnknown, "access denied"},
		{"an unhealthy product fails",
			Facts{Products: []Product{{Kind: KindMDATP, Name: "MDE", Healthy: flag(false, "mdatp health healthy"), RealTime: flag(true, "t"), UpToDate: flag(true, "t")}}}, checks.StatusFail, "unhealthy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := evalFacts(t, tc.facts, DefaultThresholds(), now)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.say) {
				t.Errorf("got %s %q, want %s mentioning %q", res.Status, res.Summary, tc.want, tc.say)
			}
		})
	}
	t.Run("undecodable facts are unknown", func(t *testing.T) {
		res := Evaluate(checks.EvalInput{OS: "linux", Facts: json.RawMessage(`{"products":"none"}`)})
		if res.Status != checks.StatusUnknown {
			t.Errorf("status = %s", res.Status)
		}
	})
}

func TestCollectOnAnUnknownOSIsAnError(t *testing.T) {
	if _, err := Collect(t.Context(), fakeOS("plan9")); err == nil {
		t.Error("no error")
	}
}

func TestEvaluateWholeDayAges(t *testing.T) {
	now := date("2024-06-27T12:00:00Z")
	defender := func(days int64) Facts {
		m, day := days*24*60, int64(24*60)
		return Facts{Products: []Product{{
			Kind: KindDefender, Name: defenderName, RealTime: flag(true, "test"),
			Definitions: &Definitions{AgeMinutes: &m, AgeResolutionMinutes: &day, Source: "AntivirusSignatureAge (whole days)"},
		}}}
	}
	for _, tc := range []struct {
		name    string
		days    int64
		limit   time.Duration
		want    checks.Status
		summary string
	}{
		{"0 days is under a day old: passes 24 h", 0, 24 * time.Hour, checks.StatusPass, "definitions under 24 h old"},
		{"1 day is at least 24 h old: fails 24 h", 1, 24 * time.Hour, checks.StatusFail, "definitions at least 24 h old"},
		{"1 day passes a 48 h limit", 1, 48 * time.Hour, checks.StatusPass, "under 48 h old"},
		{"0 days cannot be judged against a 12 h limit", 0, 12 * time.Hour, checks.StatusUnknown, "between 0 h and 24 h old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := evalFacts(t, defender(tc.days), &Thresholds{MaxDefinitionAge: tc.limit}, now)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.summary) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.want, tc.summary)
			}
		})
	}
}
