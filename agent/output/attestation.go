package output

import (
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/agent/attest"
	"github.com/postern-dev/postern/agent/state"
)

// AttestationStatus is the yearly user attestation's state on this device.
type AttestationStatus struct {
	// LastRecordedAt is when the server last recorded one; nil if never.
	LastRecordedAt *time.Time `json:"last_recorded_at"`
	User           string     `json:"user,omitempty"`
	// DueAt is when the next one is due (a year after the last).
	DueAt *time.Time `json:"due_at"`
	// Pending says an accepted statement waits for the server.
	Pending bool `json:"pending"`
	// Warning is set when the attestation is missing, due within 14 days
	// or overdue.
	Warning string `json:"warning,omitempty"`
}

// NewAttestationStatus summarises the last recorded and the pending
// attestation at now.
func NewAttestationStatus(last, pending *state.AttestationInfo, now time.Time) *AttestationStatus {
	a := &AttestationStatus{Pending: pending != nil}
	switch {
	case last != nil:
		rec, due := last.RecordedAt.UTC(), attest.Due(last.RecordedAt).UTC()
		a.LastRecordedAt, a.DueAt, a.User = &rec, &due, last.User
		if !now.Before(due) {
			a.Warning = "the yearly attestation is overdue; run `postern-agent attest`"
		} else if attest.DueSoon(last.RecordedAt, now) {
			a.Warning = fmt.Sprintf("the yearly attestation is due in %d day(s); run `postern-agent attest`", daysUntil(now, due))
		}
	case pending == nil:
		a.Warning = "no attestation recorded; run `postern-agent attest`"
	}
	if a.Pending {
		a.Warning = ""
	}
	return a
}

func daysUntil(now, t time.Time) int {
	return int((t.Sub(now) + 24*time.Hour - 1) / (24 * time.Hour))
}

func (a *AttestationStatus) text() string {
	b := &strings.Builder{}
	if a.LastRecordedAt != nil {
		fmt.Fprintf(b, "attestation:  recorded %s for %s, due %s\n", a.LastRecordedAt.Format(time.RFC3339), a.User, a.DueAt.Format(time.RFC3339))
	} else {
		b.WriteString("attestation:  none recorded\n")
	}
	if a.Pending {
		b.WriteString("              a new attestation waits for the server\n")
	}
	if a.Warning != "" {
		fmt.Fprintf(b, "              warning: %s\n", a.Warning)
	}
	return b.String()
}
