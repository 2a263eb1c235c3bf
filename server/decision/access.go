package decision

import (
	"time"
)

// Access is a decision in one word, for lists and exports: every surface
// that shows a device's standing derives it from the Decision with
// AccessOf, so that none can disagree with the decision API.
type Access string

// Access values.
const (
	// AccessAllowed: allowed with nothing pending.
	AccessAllowed Access = "allowed"
	// AccessException: allowed only because an exception waives a
	// failing control.
	AccessException Access = "allowed_by_exception"
	// AccessWarned: allowed, but a failing control (or the attestation)
	// blocks at Deadline unless fixed, or only notifies (zero Deadline).
	AccessWarned Access = "warned"
	// AccessBlocked: denied.
	AccessBlocked Access = "blocked"
)

// Standing is a device's access and, for a warning, the earliest time it
// turns into a block.
type Standing struct {
	Access   Access
	Deadline time.Time
}

// AccessOf classifies d. An exception takes precedence over other
// warnings only when it is the sole kind of warning: a device both
// waived and in a grace period is warned, with the grace's deadline.
func AccessOf(d Decision) Standing {
	if !d.Allow {
		return Standing{Access: AccessBlocked}
	}
	var s Standing
	waived := false
	for _, w := range d.Warnings {
		if w.Code == CodeExceptionApplied {
			waived = true
			continue
		}
		s.Access = AccessWarned
		if !w.Until.IsZero() && (s.Deadline.IsZero() || w.Until.Before(s.Deadline)) {
			s.Deadline = w.Until
		}
	}
	switch {
	case s.Access == AccessWarned:
		return s
	case waived:
		return Standing{Access: AccessException}
	}
	return Standing{Access: AccessAllowed}
}

// Label is the standing for a person: "allowed", "blocked", "allowed by
// exception", "warned until 2026-12-24 10:00 UTC".
func (s Standing) Label() string {
	switch s.Access {
	case AccessException:
		return "allowed by exception"
	case AccessWarned:
		if s.Deadline.IsZero() {
			return "warned"
		}
		return "warned until " + s.Deadline.UTC().Format("2006-01-02 15:04 UTC")
	}
	return string(s.Access)
}

// Lifecycle says what kind of deny d is, for the dashboard's statuses:
// "revoked", "inactive", "stale" (no report, or too old), or "" when the
// decision is about the device's posture (or it is allowed).
func Lifecycle(d Decision) string {
	for _, r := range d.Reasons {
		switch r.Code {
		case CodeDeviceRevoked:
			return "revoked"
		case CodeDeviceInactive:
			return "inactive"
		case CodeReportStale, CodeNoReport:
			return "stale"
		}
	}
	return ""
}
