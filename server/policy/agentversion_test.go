package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
)

func TestAgentVersionSettings(t *testing.T) {
	tests := []struct {
		name                string
		yaml                string
		wantMin, wantOrgMin string
		wantEnforcement     checks.Enforcement
		wantSince           string
		wantGrace           time.Duration
		wantErr             string
	}{
		{name: "nothing set requires no version", yaml: ``, wantEnforcement: checks.EnforceBlock},
		{name: "a minimum with warn_then_block from a day, inherited by organizations",
			yaml:    "agent_version: {minimum: 1.4.0, enforcement: warn_then_block, since: 2027-01-04, grace: 30d}\nprofiles: {clinic: {}}\n",
			wantMin: "1.4.0", wantOrgMin: "1.4.0", wantEnforcement: checks.EnforceWarnThenBlock, wantSince: "2027-01-04", wantGrace: 30 * 24 * time.Hour},
		{name: "an organization can drop the minimum", yaml: "agent_version: {minimum: 1.4.0}\nprofiles: {lab: {agent_version: {minimum: none}}}\n",
			wantMin: "1.4.0", wantEnforcement: checks.EnforceBlock},
		{name: "warn_then_block without since is refused", yaml: "agent_version: {minimum: 1.4.0, enforcement: warn_then_block}\n", wantErr: "agent_version.since"},
		{name: "a minimum that is not a version is refused", yaml: "agent_version: {minimum: latest}\n", wantErr: "agent_version.minimum"},
		{name: "a since that is not a date is refused", yaml: "agent_version: {since: soon}\n", wantErr: "agent_version.since"},
		{name: "a grace past a year is refused", yaml: "agent_version: {grace: 400d}\n", wantErr: "agent_version.grace"},
		{name: "an unknown enforcement is refused", yaml: "agent_version: {enforcement: deny}\n", wantErr: "agent_version.enforcement"},
		{name: "an unknown field is refused", yaml: "agent_version: {min: 1.0.0}\n", wantErr: "agent_version.min"},
	}
	str := func(a AgentVersion) string {
		if a.Minimum == nil {
			return ""
		}
		return a.Minimum.String()
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse([]byte(tt.yaml))
			if tt.wantErr != "" {
				var pe *checks.PolicyError
				if !errors.As(err, &pe) || !strings.Contains(pe.Field, tt.wantErr) {
					t.Fatalf("got %v, want an error on %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := set.Default.AgentVersion
			if str(a) != tt.wantMin || a.Enforcement != tt.wantEnforcement || a.Grace != tt.wantGrace {
				t.Errorf("default = %s %s %s", str(a), a.Enforcement, a.Grace)
			}
			if tt.wantSince != "" && a.Since.Format(time.DateOnly) != tt.wantSince {
				t.Errorf("since = %v", a.Since)
			}
			for _, p := range set.Profiles {
				if got := str(p.AgentVersion); got != tt.wantOrgMin {
					t.Errorf("%s: minimum %q, want %q", p.Name, got, tt.wantOrgMin)
				}
			}
		})
	}
}
