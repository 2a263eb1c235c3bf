package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Exception scopes: an exception applies to one device or to every device
// of an organization.
const (
	ScopeDevice = "device"
	ScopeOrg    = "org"
)

// Exception waives one control for a device or an organization for a
// bounded time. The server/exceptions package validates and audits them.
type Exception struct {
	ID string
	// Scope is ScopeDevice or ScopeOrg; Subject is the device ID or the
	// organization label.
	Scope, Subject string
	Control        string
	Reason         string
	Approver       string
	StartsAt       time.Time
	ExpiresAt      time.Time
	CreatedAt      time.Time
	// EndedAt is zero unless the exception was ended early.
	EndedAt time.Time
	EndedBy string
}

// ActiveAt reports whether the exception applies at t.
func (e Exception) ActiveAt(t time.Time) bool {
	return !t.Before(e.StartsAt) && t.Before(e.ExpiresAt) && (e.EndedAt.IsZero() || t.Before(e.EndedAt))
}

// Attestation is a user's yearly statement about what the machine cannot
// show (physical protection, screen privacy, messaging, printing).
type Attestation struct {
	ID               string
	DeviceID         string
	User             string
	StatementVersion string
	AttestedAt       time.Time
	// RecordedBy is who recorded it: "agent" or an administrator.
	RecordedBy string
}

// MaxExceptions bounds how many exceptions Exceptions returns.
const MaxExceptions = 100_000

const exceptionColumns = `id, scope, subject, control_id, reason, approver, starts_at, expires_at, created_at, ended_at, ended_by`

func (s *sqlStore) CreateException(ctx context.Context, e Exception) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO exceptions (`+exceptionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		e.ID, e.Scope, e.Subject, e.Control, e.Reason, e.Approver, nanos(e.StartsAt), nanos(e.ExpiresAt), nanos(e.CreatedAt), nanos(e.EndedAt), e.EndedBy)
	if err != nil {
		return fmt.Errorf("store exception: %w", err)
	}
	return nil
}

func (s *sqlStore) Exception(ctx context.Context, id string) (Exception, error) {
	out, err := s.exceptions(ctx, `SELECT `+exceptionColumns+` FROM exceptions WHERE id = ?`, id)
	if err != nil {
		return Exception{}, err
	}
	if len(out) == 0 {
		return Exception{}, ErrNotFound
	}
	return out[0], nil
}

func (s *sqlStore) Exceptions(ctx context.Context, unexpiredAt time.Time) ([]Exception, error) {
	return s.exceptions(ctx, `SELECT `+exceptionColumns+` FROM exceptions WHERE expires_at > ? ORDER BY starts_at, id LIMIT ?`,
		nanos(unexpiredAt), MaxExceptions)
}

func (s *sqlStore) EndException(ctx context.Context, id string, at time.Time, by string) error {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE exceptions SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at = 0`), nanos(at), by, id)
	if err != nil {
		return fmt.Errorf("end exception: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("end exception: %w", err)
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *sqlStore) exceptions(ctx context.Context, query string, args ...any) ([]Exception, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read exceptions: %w", err)
	}
	defer rows.Close()
	var out []Exception
	for rows.Next() {
		var e Exception
		var starts, expires, created, ended int64
		if err := rows.Scan(&e.ID, &e.Scope, &e.Subject, &e.Control, &e.Reason, &e.Approver, &starts, &expires, &created, &ended, &e.EndedBy); err != nil {
			return nil, fmt.Errorf("read exceptions: %w", err)
		}
		e.StartsAt, e.ExpiresAt, e.CreatedAt, e.EndedAt = fromNanos(starts), fromNanos(expires), fromNanos(created), fromNanos(ended)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read exceptions: %w", err)
	}
	return out, nil
}

func (s *sqlStore) RecordAttestation(ctx context.Context, a Attestation) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO attestations (id, device_id, user_name, statement_version, attested_at, recorded_by)
		VALUES (?, ?, ?, ?, ?, ?)`), a.ID, a.DeviceID, a.User, a.StatementVersion, nanos(a.AttestedAt), a.RecordedBy)
	if err != nil {
		return fmt.Errorf("store attestation: %w", err)
	}
	return nil
}

func (s *sqlStore) LatestAttestations(ctx context.Context, since time.Time) (map[string]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT device_id, MAX(attested_at) FROM attestations WHERE attested_at >= ? GROUP BY device_id`), nanos(since))
	if err != nil {
		return nil, fmt.Errorf("read attestations: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("read attestations: %w", err)
		}
		out[id] = fromNanos(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read attestations: %w", err)
	}
	return out, nil
}

func (s *sqlStore) PutState(ctx context.Context, name string, value []byte, at time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO server_state (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`), name, string(value), nanos(at))
	if err != nil {
		return fmt.Errorf("store state %s: %w", name, err)
	}
	return nil
}

func (s *sqlStore) State(ctx context.Context, name string) ([]byte, time.Time, error) {
	var v string
	var at int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT value, updated_at FROM server_state WHERE name = ?`), name).Scan(&v, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read state %s: %w", name, err)
	}
	return []byte(v), fromNanos(at), nil
}
