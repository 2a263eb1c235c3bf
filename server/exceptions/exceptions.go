package exceptions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// MaxDuration is the longest an exception may last.
const MaxDuration = 365 * 24 * time.Hour

// Limits on text fields.
const (
	maxReasonLen  = 1000
	maxSubjectLen = 128
	maxNameLen    = 256
	// maxBackdate bounds how far in the past an exception may start.
	maxBackdate = 24 * time.Hour
)

// ErrInvalid wraps every refused request.
var ErrInvalid = errors.New("invalid exception")

// Grant is a request for an exception.
type Grant struct {
	// Scope is store.ScopeDevice or store.ScopeOrg; Subject the device ID
	// or organization.
	Scope, Subject string
	Control        checks.ControlID
	Reason         string
	// Approver is who approved it (an approver role once the dashboard
	// has roles; a name on the command line for now).
	Approver string
	// StartsAt defaults to now; ExpiresAt is required.
	StartsAt, ExpiresAt time.Time
}

// Service grants, lists and ends exceptions and records attestations,
// auditing each change.
type Service struct {
	st  store.Store
	log *audit.Log
	now func() time.Time
}

// NewService returns a service over st writing to log.
func NewService(st store.Store, log *audit.Log, now func() time.Time) *Service {
	if now == nil {
		now = clock.Now
	}
	return &Service{st: st, log: log, now: now}
}

// Validate checks g at time now and fills StartsAt when unset.
func (g *Grant) Validate(now time.Time) error {
	var errs []string
	switch g.Scope {
	case store.ScopeDevice, store.ScopeOrg:
	default:
		errs = append(errs, fmt.Sprintf("scope %q is not device or org", g.Scope))
	}
	if !text(g.Subject, maxSubjectLen) {
		errs = append(errs, fmt.Sprintf("subject must be 1 to %d printable characters", maxSubjectLen))
	}
	if !g.Control.Valid() {
		errs = append(errs, fmt.Sprintf("control %q is unknown", g.Control))
	}
	if !text(strings.TrimSpace(g.Reason), maxReasonLen) {
		errs = append(errs, fmt.Sprintf("reason must be 1 to %d printable characters", maxReasonLen))
	}
	if !text(g.Approver, maxNameLen) {
		errs = append(errs, "approver is required")
	}
	if g.StartsAt.IsZero() {
		g.StartsAt = now
	}
	switch {
	case g.ExpiresAt.IsZero():
		errs = append(errs, "expiry is required")
	case !g.ExpiresAt.After(g.StartsAt):
		errs = append(errs, "expiry must be after the start")
	case g.ExpiresAt.Sub(g.StartsAt) > MaxDuration:
		errs = append(errs, "an exception lasts at most 365 days")
	case !g.ExpiresAt.After(now):
		errs = append(errs, "expiry is in the past")
	}
	if g.StartsAt.Before(now.Add(-maxBackdate)) {
		errs = append(errs, "start is more than a day in the past")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return nil
}

func text(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Grant validates, stores and audits a new exception. A device exception
// must name an enrolled device.
func (s *Service) Grant(ctx context.Context, g Grant) (store.Exception, error) {
	now := s.now()
	if err := g.Validate(now); err != nil {
		return store.Exception{}, err
	}
	if g.Scope == store.ScopeDevice {
		if _, err := s.st.Device(ctx, g.Subject); errors.Is(err, store.ErrNotFound) {
			return store.Exception{}, fmt.Errorf("%w: no device %q", ErrInvalid, g.Subject)
		} else if err != nil {
			return store.Exception{}, err
		}
	}
	id, err := newID("ex_")
	if err != nil {
		return store.Exception{}, err
	}
	e := store.Exception{ID: id, Scope: g.Scope, Subject: g.Subject, Control: string(g.Control), Reason: strings.TrimSpace(g.Reason),
		Approver: g.Approver, StartsAt: g.StartsAt.UTC(), ExpiresAt: g.ExpiresAt.UTC(), CreatedAt: now.UTC()}
	if err := s.st.CreateException(ctx, e); err != nil {
		return store.Exception{}, err
	}
	deviceID := ""
	if e.Scope == store.ScopeDevice {
		deviceID = e.Subject
	}
	_, err = s.log.Append(ctx, audit.Entry{Actor: g.Approver, Kind: audit.KindExceptionGranted, DeviceID: deviceID, At: now,
		Details: map[string]any{"id": e.ID, "scope": e.Scope, "subject": e.Subject, "control": e.Control, "reason": e.Reason,
			"starts_at": e.StartsAt, "expires_at": e.ExpiresAt}})
	return e, err
}

// End ends an exception now and audits who did.
func (s *Service) End(ctx context.Context, id, by, reason string) error {
	if !text(by, maxNameLen) {
		return fmt.Errorf("%w: who ends the exception is required", ErrInvalid)
	}
	e, err := s.st.Exception(ctx, id)
	if err != nil {
		return fmt.Errorf("end exception %s: %w", id, err)
	}
	now := s.now()
	if !e.EndedAt.IsZero() || !now.Before(e.ExpiresAt) {
		return fmt.Errorf("end exception %s: it already ended", id)
	}
	if err := s.st.EndException(ctx, id, now, by); err != nil {
		return fmt.Errorf("end exception %s: %w", id, err)
	}
	deviceID := ""
	if e.Scope == store.ScopeDevice {
		deviceID = e.Subject
	}
	_, err = s.log.Append(ctx, audit.Entry{Actor: by, Kind: audit.KindExceptionEnded, DeviceID: deviceID, At: now,
		Details: map[string]any{"id": id, "scope": e.Scope, "subject": e.Subject, "control": e.Control, "reason": reason}})
	return err
}

// List returns the exceptions that have not expired by now; all also
// includes ended ones.
func (s *Service) List(ctx context.Context, all bool) ([]store.Exception, error) {
	now := s.now()
	es, err := s.st.Exceptions(ctx, now)
	if err != nil {
		return nil, err
	}
	if all {
		return es, nil
	}
	out := es[:0]
	for _, e := range es {
		if e.EndedAt.IsZero() {
			out = append(out, e)
		}
	}
	return out, nil
}

// Attest records a user's attestation for a device and audits it.
// recordedBy is "agent" or the administrator who took it on paper.
func (s *Service) Attest(ctx context.Context, deviceID, user, statementVersion, recordedBy string) (store.Attestation, error) {
	if !text(user, maxNameLen) || !text(statementVersion, maxSubjectLen) || !text(recordedBy, maxNameLen) {
		return store.Attestation{}, fmt.Errorf("%w: user, statement version and recorder are required printable text", ErrInvalid)
	}
	if _, err := s.st.Device(ctx, deviceID); err != nil {
		return store.Attestation{}, fmt.Errorf("attest for device %q: %w", deviceID, err)
	}
	id, err := newID("at_")
	if err != nil {
		return store.Attestation{}, err
	}
	now := s.now().UTC()
	a := store.Attestation{ID: id, DeviceID: deviceID, User: user, StatementVersion: statementVersion, AttestedAt: now, RecordedBy: recordedBy}
	if err := s.st.RecordAttestation(ctx, a); err != nil {
		return store.Attestation{}, err
	}
	_, err = s.log.Append(ctx, audit.Entry{Actor: recordedBy, Kind: audit.KindAttestation, DeviceID: deviceID, At: now,
		Details: map[string]any{"id": id, "user": user, "statement_version": statementVersion}})
	return a, err
}

func newID(prefix string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	return prefix + hex.EncodeToString(b[:]), nil
}
