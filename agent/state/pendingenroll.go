package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// File names of an enrollment that the service carries out.
const (
	// PendingEnrollmentFile holds the server and secret an installer
	// left for the service, so that installing never depends on the
	// server answering. It is private (0600, SYSTEM-only on Windows) and
	// deleted once the device is enrolled.
	PendingEnrollmentFile = "enroll_pending.json"
	// EnrollStatusFile records the service's enrollment attempts for
	// `status`; it never holds the secret.
	EnrollStatusFile = "enroll_status.json"
)

// PendingEnrollment is an enrollment left for the service.
type PendingEnrollment struct {
	Server string `json:"server"`
	// Secret is a one-time token or a reusable enrollment secret.
	Secret  string    `json:"secret"`
	SavedAt time.Time `json:"saved_at"`
}

// EnrollStatus is the outcome of the service's enrollment attempts.
type EnrollStatus struct {
	Server      string    `json:"server"`
	Attempts    int       `json:"attempts"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	// LastError is why the last attempt failed; empty after success.
	LastError string `json:"last_error,omitempty"`
	// Refused is true when the server refused the secret (invalid, used
	// up, expired or revoked): retrying cannot help until a new one is
	// installed.
	Refused     bool      `json:"refused,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// PendingSavedAt ties the status to the pending enrollment it is
	// about; a newer pending enrollment starts afresh.
	PendingSavedAt time.Time `json:"pending_saved_at,omitzero"`
}

// SetPendingEnrollment stores p for the service, replacing an earlier one.
func (d *Dir) SetPendingEnrollment(p PendingEnrollment) error {
	return d.writeJSON(PendingEnrollmentFile, "pending enrollment", p)
}

// PendingEnrollment returns the enrollment left for the service, or nil.
func (d *Dir) PendingEnrollment() (*PendingEnrollment, error) {
	return readJSON[PendingEnrollment](d, PendingEnrollmentFile, "pending enrollment")
}

// DropPendingEnrollment deletes the pending enrollment, if any.
func (d *Dir) DropPendingEnrollment() error {
	if err := os.Remove(d.File(PendingEnrollmentFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("drop pending enrollment: %w", err)
	}
	return nil
}

// SaveEnrollStatus records the service's enrollment attempts.
func (d *Dir) SaveEnrollStatus(s EnrollStatus) error {
	return d.writeJSON(EnrollStatusFile, "enrollment status", s)
}

// EnrollStatus returns the recorded enrollment attempts, or nil.
func (d *Dir) EnrollStatus() (*EnrollStatus, error) {
	return readJSON[EnrollStatus](d, EnrollStatusFile, "enrollment status")
}
