package decision

import (
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
)

func TestAgentVersionPolicy(t *testing.T) {
	min := semver.MustParse("1.4.0")
	now := t0.Add(time.Minute)
	since := t0.Add(-10 * 24 * time.Hour)
	block := func(v string) AgentVersion {
		return AgentVersion{Version: v, Minimum: min, Enforcement: checks.EnforceBlock}
	}
	tests := []struct {
		name         string
		av           AgentVersion
		wantAllow    bool
		wantReasons  []string
		wantWarnings []string
		wantUntil    time.Time
	}{
		{"no minimum: any version passes, even none", AgentVersion{Enforcement: checks.EnforceBlock}, true, nil, nil, time.Time{}},
		{"the minimum itself passes", block("1.4.0"), true, nil, nil, time.Time{}},
		{"a newer agent passes (numbers, not text: 1.10 is newer than 1.4)", block("1.10.0"), true, nil, nil, time.Time{}},
		{"a leading v is read", block("v1.4.2"), true, nil, nil, time.Time{}},
		{"an older agent is denied", block("1.3.9"), false, []string{CodeAgentOutdated}, nil, time.Time{}},
		{"a pre-release of the minimum is older than it", block("1.4.0-rc.1"), false, []string{CodeAgentOutdated}, nil, time.Time{}},
		{"an agent that never said its version is denied", block(""), false, []string{CodeAgentOutdated}, nil, time.Time{}},
		{"a version that cannot be read (a dev build) is denied", block("dev"), false, []string{CodeAgentOutdated}, nil, time.Time{}},
		{"an older agent is warned until the grace after since ends",
			AgentVersion{Version: "1.3.0", Minimum: min, Enforcement: checks.EnforceWarnThenBlock, Since: since, Grace: 30 * 24 * time.Hour},
			true, nil, []string{CodeAgentOutdated}, since.Add(30 * 24 * time.Hour)},
		{"and denied after it",
			AgentVersion{Version: "1.3.0", Minimum: min, Enforcement: checks.EnforceWarnThenBlock, Since: since, Grace: 5 * 24 * time.Hour},
			false, []string{CodeAgentOutdated}, nil, time.Time{}},
		{"under notify an older agent is a warning without end",
			AgentVersion{Version: "1.3.0", Minimum: min, Enforcement: checks.EnforceNotify}, true, nil, []string{CodeAgentOutdated}, time.Time{}},
		{"under report it is not even a warning",
			AgentVersion{Version: "1.3.0", Minimum: min, Enforcement: checks.EnforceReport}, true, nil, nil, time.Time{}},
	}
	codes := func(rs []Reason) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Code)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{DeviceID: "dev-1", Known: true, HasReport: true, PostureTime: t0, Verdicts: verdicts(nil), AgentVersion: tt.av}
			d := Decide(in, checks.DefaultPolicy(), now)
			if d.Allow != tt.wantAllow {
				t.Errorf("allow %v, want %v", d.Allow, tt.wantAllow)
			}
			if diff := cmp.Diff(tt.wantReasons, codes(d.Reasons)); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarnings, codes(d.Warnings)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			for _, r := range append(d.Reasons, d.Warnings...) {
				if !strings.Contains(r.Message, "1.4.0") || r.Remediation == "" {
					t.Errorf("reason %+v does not name the minimum or lacks a remedy", r)
				}
				if !r.Until.Equal(tt.wantUntil) {
					t.Errorf("until %v, want %v", r.Until, tt.wantUntil)
				}
			}
			if !tt.wantUntil.IsZero() && d.ValidUntil.After(tt.wantUntil) {
				t.Errorf("valid until %v, past the end of the grace %v", d.ValidUntil, tt.wantUntil)
			}
		})
	}
}
