package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// UserMFA is a dashboard account's second factors as stored. The TOTP
// secret is sealed by server/users before it gets here: the store never
// sees it in the clear.
type UserMFA struct {
	Username string
	// TOTPSecret is the sealed secret; empty when TOTP was never set up.
	TOTPSecret string
	// TOTPEnabledAt is zero while the secret awaits its first code
	// (enrolment not confirmed).
	TOTPEnabledAt time.Time
	// TOTPLastStep is the last time step whose code was accepted; only a
	// later step's code is accepted next, so that a code works once.
	TOTPLastStep int64
	// WebAuthnID is the account's random WebAuthn user handle
	// (base64url), made at its first security key.
	WebAuthnID string
}

// WebAuthnCredential is a registered security key or platform
// authenticator. Data is the go-webauthn credential record (JSON).
type WebAuthnCredential struct {
	ID         string // base64url credential ID
	Username   string
	Name       string
	RPID       string
	Data       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// MFAChallenge is the state between a right password and the second
// factor: its ID (the cookie's value) is stored hashed, it belongs to one
// account and expires within minutes.
type MFAChallenge struct {
	IDHash    string
	Username  string
	Purpose   string
	Data      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// MFAStore persists second factors; part of Store.
type MFAStore interface {
	// UserMFA returns the account's factors; ErrNotFound when it has none.
	UserMFA(ctx context.Context, username string) (UserMFA, error)
	// SetTOTPSecret stores a new sealed secret awaiting confirmation,
	// replacing any earlier one (and switching TOTP off until confirmed).
	SetTOTPSecret(ctx context.Context, username, sealed string) error
	// EnableTOTP switches TOTP on at at, with step as the last accepted
	// step (the confirming code's).
	EnableTOTP(ctx context.Context, username string, at time.Time, step int64) error
	// UseTOTPStep records step as accepted if it is later than the last
	// accepted one, in one statement, so that two replicas never both
	// accept a code; ok is false for a replay.
	UseTOTPStep(ctx context.Context, username string, step int64) (ok bool, err error)
	// DisableTOTP removes the secret.
	DisableTOTP(ctx context.Context, username string) error
	// SetWebAuthnID sets the user handle if the account has none and
	// returns the one in force.
	SetWebAuthnID(ctx context.Context, username, id string) (string, error)

	// ReplaceRecoveryCodes drops every recovery code of the account and
	// stores hashes as its new ones.
	ReplaceRecoveryCodes(ctx context.Context, username string, hashes []string, at time.Time) error
	// UseRecoveryCode marks the unused code with hash used; ok is false
	// when there is no such unused code.
	UseRecoveryCode(ctx context.Context, username, hash string, at time.Time) (ok bool, err error)
	// RecoveryCodesLeft counts the account's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, username string) (int, error)

	// AddWebAuthnCredential stores a new credential; ErrConflict if its
	// ID exists.
	AddWebAuthnCredential(ctx context.Context, c WebAuthnCredential) error
	// WebAuthnCredentials lists the account's credentials, oldest first.
	WebAuthnCredentials(ctx context.Context, username string) ([]WebAuthnCredential, error)
	// UpdateWebAuthnCredential replaces a credential's record after a
	// sign-in (its signature counter and flags) and its last use.
	UpdateWebAuthnCredential(ctx context.Context, id, data string, at time.Time) error
	// DeleteWebAuthnCredential removes one of the account's credentials;
	// ErrNotFound if it has no such credential.
	DeleteWebAuthnCredential(ctx context.Context, username, id string) error

	// ResetMFA removes every second factor of the account.
	ResetMFA(ctx context.Context, username string) error
	// SealedTOTPSample returns one account's sealed TOTP secret, so that
	// a server can check at start that its mfa.key opens them;
	// ErrNotFound when no account has one.
	SealedTOTPSample(ctx context.Context) (username, sealed string, err error)

	// CreateMFAChallenge stores c.
	CreateMFAChallenge(ctx context.Context, c MFAChallenge) error
	// MFAChallenge returns the challenge whose ID hashes to idHash if it
	// has not expired at now; ErrNotFound otherwise.
	MFAChallenge(ctx context.Context, idHash string, now time.Time) (MFAChallenge, error)
	// SetMFAChallengeData replaces the challenge's data.
	SetMFAChallengeData(ctx context.Context, idHash, data string) error
	// DeleteMFAChallenge ends a challenge.
	DeleteMFAChallenge(ctx context.Context, idHash string) error
	// DeleteExpiredMFAChallenges removes challenges expired at now.
	DeleteExpiredMFAChallenges(ctx context.Context, now time.Time) (int64, error)
}

func (s *sqlStore) UserMFA(ctx context.Context, username string) (UserMFA, error) {
	m := UserMFA{Username: username}
	var enabled int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT totp_secret, totp_enabled_at, totp_last_step, webauthn_id FROM user_mfa WHERE username = ?`), username).
		Scan(&m.TOTPSecret, &enabled, &m.TOTPLastStep, &m.WebAuthnID)
	if errors.Is(err, sql.ErrNoRows) {
		return UserMFA{}, ErrNotFound
	}
	if err != nil {
		return UserMFA{}, fmt.Errorf("read second factors: %w", err)
	}
	m.TOTPEnabledAt = fromNanos(enabled)
	return m, nil
}

// ensureMFARow creates the account's user_mfa row if missing.
func (s *sqlStore) ensureMFARow(ctx context.Context, tx *sql.Tx, username string) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO user_mfa (username) VALUES (?) ON CONFLICT (username) DO NOTHING`), username)
	if err != nil {
		return fmt.Errorf("store second factors: %w", err)
	}
	return nil
}

func (s *sqlStore) SetTOTPSecret(ctx context.Context, username, sealed string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureMFARow(ctx, tx, username); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE user_mfa SET totp_secret = ?, totp_enabled_at = 0, totp_last_step = 0 WHERE username = ?`), sealed, username)
		if err != nil {
			return fmt.Errorf("store totp secret: %w", err)
		}
		return nil
	})
}

func (s *sqlStore) EnableTOTP(ctx context.Context, username string, at time.Time, step int64) error {
	return s.updateMFA(ctx, `UPDATE user_mfa SET totp_enabled_at = ?, totp_last_step = ? WHERE username = ? AND totp_secret <> ''`, nanos(at), step, username)
}

func (s *sqlStore) UseTOTPStep(ctx context.Context, username string, step int64) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE user_mfa SET totp_last_step = ? WHERE username = ? AND totp_enabled_at <> 0 AND totp_last_step < ?`), step, username, step)
	if err != nil {
		return false, fmt.Errorf("record totp step: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record totp step: %w", err)
	}
	return n == 1, nil
}

func (s *sqlStore) DisableTOTP(ctx context.Context, username string) error {
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE user_mfa SET totp_secret = '', totp_enabled_at = 0, totp_last_step = 0 WHERE username = ?`), username)
	if err != nil {
		return fmt.Errorf("remove totp: %w", err)
	}
	return nil
}

func (s *sqlStore) SetWebAuthnID(ctx context.Context, username, id string) (string, error) {
	var out string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureMFARow(ctx, tx, username); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE user_mfa SET webauthn_id = ? WHERE username = ? AND webauthn_id = ''`), id, username); err != nil {
			return fmt.Errorf("store webauthn user handle: %w", err)
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT webauthn_id FROM user_mfa WHERE username = ?`), username).Scan(&out)
	})
	return out, err
}

func (s *sqlStore) updateMFA(ctx context.Context, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("update second factors: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *sqlStore) ReplaceRecoveryCodes(ctx context.Context, username string, hashes []string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM recovery_codes WHERE username = ?`), username); err != nil {
			return fmt.Errorf("drop recovery codes: %w", err)
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO recovery_codes (username, hash, created_at) VALUES (?, ?, ?)`), username, h, nanos(at)); err != nil {
				return fmt.Errorf("store recovery code: %w", err)
			}
		}
		return nil
	})
}

func (s *sqlStore) UseRecoveryCode(ctx context.Context, username, hash string, at time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE recovery_codes SET used_at = ? WHERE username = ? AND hash = ? AND used_at = 0`), nanos(at), username, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	return n == 1, nil
}

func (s *sqlStore) RecoveryCodesLeft(ctx context.Context, username string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM recovery_codes WHERE username = ? AND used_at = 0`), username).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return n, nil
}

func (s *sqlStore) AddWebAuthnCredential(ctx context.Context, c WebAuthnCredential) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO webauthn_credentials (id, username, name, rp_id, data, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		c.ID, c.Username, c.Name, c.RPID, c.Data, nanos(c.CreatedAt), nanos(c.LastUsedAt))
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store webauthn credential: %w", err)
	}
	return nil
}

func (s *sqlStore) WebAuthnCredentials(ctx context.Context, username string) ([]WebAuthnCredential, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, username, name, rp_id, data, created_at, last_used_at FROM webauthn_credentials WHERE username = ? ORDER BY created_at, id`), username)
	if err != nil {
		return nil, fmt.Errorf("list webauthn credentials: %w", err)
	}
	defer rows.Close()
	var out []WebAuthnCredential
	for rows.Next() {
		var c WebAuthnCredential
		var created, used int64
		if err := rows.Scan(&c.ID, &c.Username, &c.Name, &c.RPID, &c.Data, &created, &used); err != nil {
			return nil, fmt.Errorf("list webauthn credentials: %w", err)
		}
		c.CreatedAt, c.LastUsedAt = fromNanos(created), fromNanos(used)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webauthn credentials: %w", err)
	}
	return out, nil
}

func (s *sqlStore) UpdateWebAuthnCredential(ctx context.Context, id, data string, at time.Time) error {
	return s.updateMFA(ctx, `UPDATE webauthn_credentials SET data = ?, last_used_at = ? WHERE id = ?`, data, nanos(at), id)
}

func (s *sqlStore) DeleteWebAuthnCredential(ctx context.Context, username, id string) error {
	return s.updateMFA(ctx, `DELETE FROM webauthn_credentials WHERE username = ? AND id = ?`, username, id)
}

func (s *sqlStore) ResetMFA(ctx context.Context, username string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM user_mfa WHERE username = ?`, `DELETE FROM recovery_codes WHERE username = ?`,
			`DELETE FROM webauthn_credentials WHERE username = ?`, `DELETE FROM mfa_challenges WHERE username = ?`} {
			if _, err := tx.ExecContext(ctx, s.q(q), username); err != nil {
				return fmt.Errorf("reset second factors: %w", err)
			}
		}
		return nil
	})
}

func (s *sqlStore) SealedTOTPSample(ctx context.Context) (string, string, error) {
	var user, sealed string
	err := s.r.QueryRowContext(ctx, `SELECT username, totp_secret FROM user_mfa WHERE totp_secret <> '' ORDER BY username LIMIT 1`).Scan(&user, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("read a sealed totp secret: %w", err)
	}
	return user, sealed, nil
}

func (s *sqlStore) CreateMFAChallenge(ctx context.Context, c MFAChallenge) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO mfa_challenges (id_hash, username, purpose, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		c.IDHash, c.Username, c.Purpose, c.Data, nanos(c.CreatedAt), nanos(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store sign-in challenge: %w", err)
	}
	return nil
}

func (s *sqlStore) MFAChallenge(ctx context.Context, idHash string, now time.Time) (MFAChallenge, error) {
	var c MFAChallenge
	var created, expires int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id_hash, username, purpose, data, created_at, expires_at FROM mfa_challenges WHERE id_hash = ? AND expires_at > ?`), idHash, nanos(now)).
		Scan(&c.IDHash, &c.Username, &c.Purpose, &c.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return MFAChallenge{}, ErrNotFound
	}
	if err != nil {
		return MFAChallenge{}, fmt.Errorf("read sign-in challenge: %w", err)
	}
	c.CreatedAt, c.ExpiresAt = fromNanos(created), fromNanos(expires)
	return c, nil
}

func (s *sqlStore) SetMFAChallengeData(ctx context.Context, idHash, data string) error {
	return s.updateMFA(ctx, `UPDATE mfa_challenges SET data = ? WHERE id_hash = ?`, data, idHash)
}

func (s *sqlStore) DeleteMFAChallenge(ctx context.Context, idHash string) error {
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM mfa_challenges WHERE id_hash = ?`), idHash); err != nil {
		return fmt.Errorf("delete sign-in challenge: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteExpiredMFAChallenges(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM mfa_challenges WHERE expires_at <= ?`), nanos(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sign-in challenges: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
