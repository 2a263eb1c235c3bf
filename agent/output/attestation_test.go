package output

import (
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/agent/state"
)

func TestAttestationStatus(t *testing.T) {
	rec := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	last := &state.AttestationInfo{User: "Dana Ruiz", StatementVersion: "2026-1", RecordedAt: rec}
	tests := []struct {
		name        string
		last, pend  *state.AttestationInfo
		now         time.Time
		wantWarning string
		wantText    string
	}{
		{name: "a recent attestation shows when it is due without a warning", last: last, now: rec.Add(24 * time.Hour),
			wantText: "recorded 2026-03-01T00:00:00Z for Dana Ruiz, due 2027-03-01T00:00:00Z"},
		{name: "ten days before the due date it warns", last: last, now: rec.Add(355 * 24 * time.Hour), wantWarning: "due in 10 day(s)"},
		{name: "past the due date it is overdue", last: last, now: rec.Add(366 * 24 * time.Hour), wantWarning: "overdue"},
		{name: "without any it asks the user to attest", now: rec, wantWarning: "no attestation recorded", wantText: "none recorded"},
		{name: "a pending one silences the warning", pend: last, now: rec, wantText: "waits for the server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAttestationStatus(tt.last, tt.pend, tt.now)
			if !strings.Contains(a.Warning, tt.wantWarning) || (tt.wantWarning == "") != (a.Warning == "") {
				t.Errorf("warning %q, want %q", a.Warning, tt.wantWarning)
			}
			if !strings.Contains(a.text(), tt.wantText) {
				t.Errorf("text %q lacks %q", a.text(), tt.wantText)
			}
		})
	}
}
