package output

import (
	"fmt"
	"time"

	"github.com/postern-dev/postern/agent/state"
)

// EnrollmentStatus is the service's progress with an enrollment an
// installer left for it (never the secret).
type EnrollmentStatus struct {
	Server      string     `json:"server"`
	Attempts    int        `json:"attempts"`
	LastAttempt *time.Time `json:"last_attempt,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	// Refused is true when the server refused the secret.
	Refused     bool       `json:"refused"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
}

// NewEnrollmentStatus describes a pending enrollment and its attempts; nil
// when none is pending.
func NewEnrollmentStatus(p *state.PendingEnrollment, st *state.EnrollStatus) *EnrollmentStatus {
	if p == nil {
		return nil
	}
	e := &EnrollmentStatus{Server: p.Server}
	if st != nil && st.PendingSavedAt.Equal(p.SavedAt) {
		e.Attempts, e.LastError, e.Refused = st.Attempts, st.LastError, st.Refused
		if !st.LastAttempt.IsZero() {
			e.LastAttempt = &st.LastAttempt
		}
		if !st.NextAttempt.IsZero() {
			e.NextAttempt = &st.NextAttempt
		}
	}
	return e
}

func (e *EnrollmentStatus) text() string {
	switch {
	case e.Attempts == 0:
		return fmt.Sprintf("enrollment:   pending with %s, not tried yet (is the service running?)\n", e.Server)
	case e.Refused:
		return fmt.Sprintf("enrollment:   REFUSED by %s after %d attempt(s): %s; install a new secret (retrying at %s)\n",
			e.Server, e.Attempts, oneLine(e.LastError), e.NextAttempt.UTC().Format(time.RFC3339))
	}
	s := fmt.Sprintf("enrollment:   pending with %s, %d attempt(s)", e.Server, e.Attempts)
	if e.LastError != "" {
		s += ", last failed: " + oneLine(e.LastError)
	}
	if e.NextAttempt != nil {
		s += ", next at " + e.NextAttempt.UTC().Format(time.RFC3339)
	}
	return s + "\n"
}
