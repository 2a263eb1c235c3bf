package decision

import (
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
)

func TestEnrollmentApproval(t *testing.T) {
	tests := []struct {
		name     string
		approval string
		revoked  bool
		want     string
	}{
		{"a pending device is denied even with a passing posture", "pending", false, CodeEnrollmentPending},
		{"a denied (and so revoked) device says it was denied", "denied", true, CodeEnrollmentDenied},
		{"an approved device is judged on its posture", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{DeviceID: "dev-1", Known: true, HasReport: true, PostureTime: t0, Verdicts: verdicts(nil),
				Approval: tt.approval, Revoked: tt.revoked}
			d := Decide(in, checks.DefaultPolicy(), t0.Add(time.Minute))
			if tt.want == "" {
				if !d.Allow {
					t.Errorf("denied: %+v", d.Reasons)
				}
				return
			}
			if d.Allow || len(d.Reasons) != 1 || d.Reasons[0].Code != tt.want || d.Reasons[0].Remediation == "" {
				t.Errorf("decision %+v, want a deny with %s and a remedy", d, tt.want)
			}
		})
	}
}
