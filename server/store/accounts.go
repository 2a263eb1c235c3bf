package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is a dashboard account as stored. PasswordHash is an encoded
// argon2id hash (see server/users); the password itself is never stored.
type User struct {
	Username          string
	FirstName         string
	LastName          string
	Role              string
	PasswordHash      string
	PasswordChangedAt time.Time
	// MustChange is set for a password an administrator chose: the user
	// must replace it at the next sign-in.
	MustChange     bool
	FailedAttempts int
	// LockedAt is zero unless too many consecutive failures from source
	// addresses the account never signed in from locked it (against such
	// addresses only; see UserSource for the others).
	LockedAt    time.Time
	CreatedAt   time.Time
	LastLoginAt time.Time
	// OIDCIssuer and OIDCSubject name the identity provider's account an
	// OIDC account was made for (both empty for a local account): such an
	// account has no password and signs in only through that provider.
	OIDCIssuer, OIDCSubject string
	// DisabledAt is zero for an active account; otherwise no sign-in is
	// accepted and no session lives. DisabledReason says why
	// (DisabledByAdmin, DisabledInactive), DisabledBy who did it.
	DisabledAt     time.Time
	DisabledReason string
	DisabledBy     string
	// EnabledAt is when an administrator last enabled the account again;
	// it counts as activity, so that an account reactivated after 90 days
	// unused is not deactivated again at once.
	EnabledAt time.Time
	// ReviewedAt and ReviewedBy record the account's last review (Policy
	// 550.04 B.2: a yearly renewal); zero when never reviewed.
	ReviewedAt time.Time
	ReviewedBy string
}

// OIDC reports whether the account signs in through an OpenID provider
// rather than with a local password.
func (u User) OIDC() bool { return u.OIDCSubject != "" }

// Locked reports whether the account is locked.
func (u User) Locked() bool { return !u.LockedAt.IsZero() }

// Session is a dashboard session as stored: only the hash of its ID.
type Session struct {
	IDHash     string
	Username   string
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// Accounts persists dashboard users and sessions; part of Store.
type Accounts interface {
	// CreateUser stores u and its first password in the history;
	// ErrConflict if the username exists.
	CreateUser(ctx context.Context, u User) error
	// User returns the account, or ErrNotFound.
	User(ctx context.Context, username string) (User, error)
	// Users lists every account by username.
	Users(ctx context.Context) ([]User, error)
	// SetPassword replaces the password hash, records it in the history
	// and keeps only the newest keep history entries.
	SetPassword(ctx context.Context, username, hash string, at time.Time, mustChange bool, keep int) error
	// PasswordHistory returns up to limit past password hashes, newest first.
	PasswordHistory(ctx context.Context, username string, limit int) ([]string, error)
	// RecordLoginFailure counts one more consecutive failure and locks the
	// account, at at, when the count reaches lockAfter. It returns the
	// updated account.
	RecordLoginFailure(ctx context.Context, username string, lockAfter int, at time.Time) (User, error)
	// RecordLogin clears the failure count and records a sign-in.
	RecordLogin(ctx context.Context, username string, at time.Time) error
	// Unlock clears the account's locks and failure counts, its sources'
	// included.
	Unlock(ctx context.Context, username string) error
	// SetRole replaces the user's role (validated by the caller);
	// ErrNotFound if there is no such user, ErrLastAdmin if it would
	// leave no enabled administrator.
	SetRole(ctx context.Context, username, role string) error
	// UserByOIDC returns the OIDC account made for the provider's issuer
	// and subject, or ErrNotFound.
	UserByOIDC(ctx context.Context, issuer, subject string) (User, error)

	// DisableUser disables the account and ends its sessions at once;
	// changed is false if there was nothing to do (see Disable).
	// ErrNotFound, ErrLastAdmin.
	DisableUser(ctx context.Context, username string, d Disable) (changed bool, err error)
	// EnableUser makes a disabled account active again, clearing its
	// locks; changed is false if it was active. ErrNotFound.
	EnableUser(ctx context.Context, username string, at time.Time) (changed bool, err error)
	// DeleteUser removes the account, its sessions, password history and
	// sources. ErrNotFound, ErrLastAdmin.
	DeleteUser(ctx context.Context, username string) error
	// RecordReview records the account's review by by at at. ErrNotFound.
	RecordReview(ctx context.Context, username, by string, at time.Time) error
	// UserSource returns the account's record for one source address
	// (zero counts when there is none).
	UserSource(ctx context.Context, username, source string) (UserSource, error)
	// RecordSourceFailure counts a failure of the account from source and
	// locks the pair when the count reaches lockAfter.
	RecordSourceFailure(ctx context.Context, username, source string, lockAfter int, at time.Time) (UserSource, error)
	// RecordSourceLogin records a sign-in from source: the pair's
	// failures and lock are cleared and the source is known from then.
	RecordSourceLogin(ctx context.Context, username, source string, at time.Time) error
	// UnlockSource clears the pair's failures and lock.
	UnlockSource(ctx context.Context, username, source string) error
	// ForgetUserSources deletes unlocked source records whose last
	// sign-in is before cutoff.
	ForgetUserSources(ctx context.Context, cutoff time.Time) (int64, error)
	// LockedSources lists the source records holding a lock.
	LockedSources(ctx context.Context) ([]UserSource, error)

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session whose ID hashes to idHash, or ErrNotFound.
	Session(ctx context.Context, idHash string) (Session, error)
	// TouchSession records activity on the session.
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	// DeleteSession ends one session.
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions ends every session of the user.
	DeleteUserSessions(ctx context.Context, username string) error
	// DeleteIdleSessions ends sessions idle since before cutoff.
	DeleteIdleSessions(ctx context.Context, cutoff time.Time) (int64, error)
}

const userColumns = `username, first_name, last_name, role, password_hash, password_changed_at, must_change, failed_attempts, locked_at, created_at, last_login_at, oidc_issuer, oidc_subject`

// userReadColumns are userColumns and the lifecycle columns, which
// CreateUser leaves to their defaults.
const userReadColumns = userColumns + `, disabled_at, disabled_reason, disabled_by, enabled_at, reviewed_at, reviewed_by`

func scanUser(row scanner) (User, error) {
	var u User
	var changed, must, failed, locked, created, login, disabled, enabled, reviewed int64
	err := row.Scan(&u.Username, &u.FirstName, &u.LastName, &u.Role, &u.PasswordHash, &changed, &must, &failed, &locked, &created, &login,
		&u.OIDCIssuer, &u.OIDCSubject, &disabled, &u.DisabledReason, &u.DisabledBy, &enabled, &reviewed, &u.ReviewedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("read user: %w", err)
	}
	u.PasswordChangedAt, u.LockedAt, u.CreatedAt, u.LastLoginAt = fromNanos(changed), fromNanos(locked), fromNanos(created), fromNanos(login)
	u.MustChange, u.FailedAttempts = must != 0, int(failed)
	u.DisabledAt, u.EnabledAt, u.ReviewedAt = fromNanos(disabled), fromNanos(enabled), fromNanos(reviewed)
	return u, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *sqlStore) CreateUser(ctx context.Context, u User) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM users WHERE username = ?`), u.Username).Scan(&n); err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		if n > 0 {
			return ErrConflict
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			u.Username, u.FirstName, u.LastName, u.Role, u.PasswordHash, nanos(u.PasswordChangedAt), boolInt(u.MustChange),
			u.FailedAttempts, nanos(u.LockedAt), nanos(u.CreatedAt), nanos(u.LastLoginAt), u.OIDCIssuer, u.OIDCSubject)
		if isUniqueViolation(err) {
			return ErrConflict
		}
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		if u.PasswordHash == "" {
			return nil // an OIDC account: no password, no history
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO password_history (username, changed_at, password_hash) VALUES (?, ?, ?)`),
			u.Username, nanos(u.PasswordChangedAt), u.PasswordHash)
		if err != nil {
			return fmt.Errorf("record password history: %w", err)
		}
		return nil
	})
}

func (s *sqlStore) User(ctx context.Context, username string) (User, error) {
	return scanUser(s.r.QueryRowContext(ctx, s.q(`SELECT `+userReadColumns+` FROM users WHERE username = ?`), username))
}

func (s *sqlStore) Users(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userReadColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

func (s *sqlStore) SetPassword(ctx context.Context, username, hash string, at time.Time, mustChange bool, keep int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET password_hash = ?, password_changed_at = ?, must_change = ? WHERE username = ?`),
			hash, nanos(at), boolInt(mustChange), username)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO password_history (username, changed_at, password_hash) VALUES (?, ?, ?)`),
			username, nanos(at), hash); err != nil {
			return fmt.Errorf("record password history: %w", err)
		}
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM password_history WHERE username = ? AND changed_at <=
			(SELECT changed_at FROM password_history WHERE username = ? ORDER BY changed_at DESC LIMIT 1 OFFSET ?)`),
			username, username, max(keep, 1))
		if err != nil {
			return fmt.Errorf("trim password history: %w", err)
		}
		return nil
	})
}

func (s *sqlStore) PasswordHistory(ctx context.Context, username string, limit int) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT password_hash FROM password_history WHERE username = ? ORDER BY changed_at DESC LIMIT ?`), username, limit)
	if err != nil {
		return nil, fmt.Errorf("read password history: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("read password history: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *sqlStore) RecordLoginFailure(ctx context.Context, username string, lockAfter int, at time.Time) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET failed_attempts = failed_attempts + 1,
			locked_at = CASE WHEN locked_at = 0 AND failed_attempts + 1 >= ? THEN ? ELSE locked_at END WHERE username = ?`),
			lockAfter, nanos(at), username)
		if err != nil {
			return fmt.Errorf("record sign-in failure: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		u, err = scanUser(tx.QueryRowContext(ctx, s.q(`SELECT `+userReadColumns+` FROM users WHERE username = ?`), username))
		return err
	})
	return u, err
}

func (s *sqlStore) RecordLogin(ctx context.Context, username string, at time.Time) error {
	return s.updateUser(ctx, `UPDATE users SET failed_attempts = 0, last_login_at = ? WHERE username = ?`, nanos(at), username)
}

func (s *sqlStore) Unlock(ctx context.Context, username string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET failed_attempts = 0, locked_at = 0 WHERE username = ?`), username)
		if err != nil {
			return fmt.Errorf("unlock user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE user_sources SET failed_attempts = 0, locked_at = 0 WHERE username = ?`), username); err != nil {
			return fmt.Errorf("unlock user: %w", err)
		}
		return nil
	})
}

func (s *sqlStore) updateUser(ctx context.Context, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *sqlStore) CreateSession(ctx context.Context, se Session) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO sessions (id_hash, username, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`),
		se.IDHash, se.Username, se.CSRFToken, nanos(se.CreatedAt), nanos(se.LastSeenAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func (s *sqlStore) Session(ctx context.Context, idHash string) (Session, error) {
	var se Session
	var created, seen int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id_hash, username, csrf_token, created_at, last_seen_at FROM sessions WHERE id_hash = ?`), idHash).
		Scan(&se.IDHash, &se.Username, &se.CSRFToken, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	se.CreatedAt, se.LastSeenAt = fromNanos(created), fromNanos(seen)
	return se, nil
}

func (s *sqlStore) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`), nanos(at), idHash); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE id_hash = ?`), idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteUserSessions(ctx context.Context, username string) error {
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE username = ?`), username); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteIdleSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE last_seen_at < ?`), nanos(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete idle sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
