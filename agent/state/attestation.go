package state

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// AttestationInfo is a user's acceptance of the yearly statement (package
// agent/attest).
type AttestationInfo struct {
	User             string    `json:"user"`
	StatementVersion string    `json:"statement_version"`
	StatementSHA256  []byte    `json:"statement_sha256"`
	AcceptedAt       time.Time `json:"accepted_at"`
	// RecordedAt is when the server confirmed it; zero while pending.
	RecordedAt time.Time `json:"recorded_at,omitzero"`
}

// Same reports whether a and b are the same acceptance, whenever recorded.
func (a *AttestationInfo) Same(b *AttestationInfo) bool {
	return a != nil && b != nil && a.User == b.User && a.StatementVersion == b.StatementVersion &&
		bytes.Equal(a.StatementSHA256, b.StatementSHA256) && a.AcceptedAt.Equal(b.AcceptedAt)
}

// SetPendingAttestation stores an attestation to be sent to the server,
// replacing any earlier pending one.
func (d *Dir) SetPendingAttestation(a AttestationInfo) error {
	a.RecordedAt = time.Time{}
	return d.writeJSON(PendingAttestationFile, "attestation", a)
}

// PendingAttestation returns the attestation awaiting the server, or nil.
func (d *Dir) PendingAttestation() (*AttestationInfo, error) {
	return readJSON[AttestationInfo](d, PendingAttestationFile, "attestation")
}

// MarkAttestationRecorded records that the server recorded a at t: it
// becomes State.LastAttestation and stops being pending, unless a newer
// one has replaced it meanwhile.
func (d *Dir) MarkAttestationRecorded(a AttestationInfo, t time.Time) error {
	if err := d.DropPendingAttestation(a); err != nil {
		return err
	}
	a.RecordedAt = t.UTC()
	_, err := d.UpdateState(func(s *State) { s.LastAttestation = &a })
	return err
}

// DropPendingAttestation removes the pending attestation if it is a (the
// server recorded or refused it), keeping a newer one.
func (d *Dir) DropPendingAttestation(a AttestationInfo) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, err := d.PendingAttestation()
	if err != nil || !p.Same(&a) {
		return err
	}
	if err := os.Remove(d.File(PendingAttestationFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove attestation: %w", err)
	}
	return nil
}
