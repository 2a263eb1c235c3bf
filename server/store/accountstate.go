package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrLastAdmin refuses a change (disable, delete, a new role) that would
// leave no enabled administrator account.
var ErrLastAdmin = errors.New("the last enabled administrator account cannot be disabled, deleted or given another role")

// AdminRole is the role whose last enabled holder the store keeps
// (users.RoleAdmin).
const AdminRole = "admin"

// Why an account was disabled (User.DisabledReason).
const (
	DisabledByAdmin  = "admin"
	DisabledInactive = "inactive"
)

// adminGuardLock is the key of the PostgreSQL advisory lock that
// serializes changes which could remove the last administrator (SQLite's
// single writer serializes them already): two admins disabling each other
// at once must not both succeed.
const adminGuardLock int64 = 0x706f737465726f

// Disabled reports whether the account is disabled.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// State is "disabled" or "active".
func (u User) State() string {
	if u.Disabled() {
		return "disabled"
	}
	return "active"
}

// UserSource is what the store knows of sign-ins to one account from
// one source address: the last success there and the failures since.
type UserSource struct {
	Username, Source string
	LastSuccessAt    time.Time
	FailedAttempts   int
	LockedAt         time.Time
}

// Locked reports whether the account is locked for this source.
func (s UserSource) Locked() bool { return !s.LockedAt.IsZero() }

// Disable is one disabling of an account.
type Disable struct {
	At     time.Time
	Reason string // DisabledByAdmin or DisabledInactive
	By     string
	// KeepAdmin refuses (ErrLastAdmin) to disable the last enabled
	// administrator.
	KeepAdmin bool
	// IdleSince, when set, disables the account only if it shows no
	// activity (sign-in, password change, creation, enabling) after it:
	// the inactivity sweep must not disable an account that signed in
	// since it was read.
	IdleSince time.Time
}

// lockAdmins takes the administrator guard in tx (PostgreSQL) and
// returns ErrLastAdmin if username is an enabled administrator and no
// other enabled one exists.
func (s *sqlStore) guardLastAdmin(ctx context.Context, tx *sql.Tx, username string) error {
	if s.postgres() {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, adminGuardLock); err != nil {
			return fmt.Errorf("lock administrators: %w", err)
		}
	}
	var role string
	var disabled int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT role, disabled_at FROM users WHERE username = ?`), username).Scan(&role, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read user: %w", err)
	}
	if role != AdminRole || disabled != 0 {
		return nil
	}
	var others int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM users WHERE role = ? AND disabled_at = 0 AND username <> ?`),
		AdminRole, username).Scan(&others); err != nil {
		return fmt.Errorf("count administrators: %w", err)
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// DisableUser disables the account and ends its sessions in one
// transaction. changed is false when it was disabled already (or, with
// IdleSince, active since). ErrNotFound, ErrLastAdmin.
func (s *sqlStore) DisableUser(ctx context.Context, username string, d Disable) (changed bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if d.KeepAdmin {
			if err := s.guardLastAdmin(ctx, tx, username); err != nil {
				return err
			}
		}
		q := `UPDATE users SET disabled_at = ?, disabled_reason = ?, disabled_by = ? WHERE username = ? AND disabled_at = 0`
		args := []any{nanos(d.At), d.Reason, d.By, username}
		if !d.IdleSince.IsZero() {
			q += ` AND last_login_at <= ? AND password_changed_at <= ? AND created_at <= ? AND enabled_at <= ?`
			n := nanos(d.IdleSince)
			args = append(args, n, n, n, n)
		}
		res, err := tx.ExecContext(ctx, s.q(q), args...)
		if err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM users WHERE username = ?`), username).Scan(&exists); err != nil {
				return fmt.Errorf("disable user: %w", err)
			}
			if exists == 0 {
				return ErrNotFound
			}
			return nil
		}
		changed = true
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE username = ?`), username); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return nil
	})
	return changed, err
}

// EnableUser makes a disabled account active again at at, clearing its
// locks; changed is false when it was active. ErrNotFound.
func (s *sqlStore) EnableUser(ctx context.Context, username string, at time.Time) (changed bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET disabled_at = 0, disabled_reason = '', disabled_by = '', enabled_at = ?,
			failed_attempts = 0, locked_at = 0 WHERE username = ? AND disabled_at <> 0`), nanos(at), username)
		if err != nil {
			return fmt.Errorf("enable user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM users WHERE username = ?`), username).Scan(&exists); err != nil {
				return fmt.Errorf("enable user: %w", err)
			}
			if exists == 0 {
				return ErrNotFound
			}
			return nil
		}
		changed = true
		_, err = tx.ExecContext(ctx, s.q(`UPDATE user_sources SET failed_attempts = 0, locked_at = 0 WHERE username = ?`), username)
		return err
	})
	return changed, err
}

// DeleteUser removes the account with its sessions, password history and
// sources. ErrNotFound, ErrLastAdmin (always: deleting is never done by
// the system).
func (s *sqlStore) DeleteUser(ctx context.Context, username string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.guardLastAdmin(ctx, tx, username); err != nil {
			return err
		}
		// Children first: the schema cascades, but only where SQLite's
		// foreign keys are on, and the order costs nothing.
		for _, q := range []string{`DELETE FROM sessions WHERE username = ?`, `DELETE FROM password_history WHERE username = ?`,
			`DELETE FROM user_sources WHERE username = ?`, `DELETE FROM users WHERE username = ?`} {
			if _, err := tx.ExecContext(ctx, s.q(q), username); err != nil {
				return fmt.Errorf("delete user: %w", err)
			}
		}
		return nil
	})
}

// RecordReview records that by reviewed the account at at. ErrNotFound.
func (s *sqlStore) RecordReview(ctx context.Context, username, by string, at time.Time) error {
	return s.updateUser(ctx, `UPDATE users SET reviewed_at = ?, reviewed_by = ? WHERE username = ?`, nanos(at), by, username)
}

// UserSource returns what is known of sign-ins to username from source;
// the zero UserSource (with the names) when nothing is.
func (s *sqlStore) UserSource(ctx context.Context, username, source string) (UserSource, error) {
	return scanUserSource(s.r.QueryRowContext(ctx, s.q(`SELECT username, source, last_success_at, failed_attempts, locked_at
		FROM user_sources WHERE username = ? AND source = ?`), username, source), username, source)
}

func scanUserSource(row scanner, username, source string) (UserSource, error) {
	us := UserSource{Username: username, Source: source}
	var success, failed, locked int64
	err := row.Scan(&us.Username, &us.Source, &success, &failed, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return us, nil
	}
	if err != nil {
		return UserSource{}, fmt.Errorf("read user source: %w", err)
	}
	us.LastSuccessAt, us.FailedAttempts, us.LockedAt = fromNanos(success), int(failed), fromNanos(locked)
	return us, nil
}

// RecordSourceFailure counts one more consecutive failure of username
// from source and locks that pair, at at, when the count reaches
// lockAfter. It returns the updated pair.
func (s *sqlStore) RecordSourceFailure(ctx context.Context, username, source string, lockAfter int, at time.Time) (UserSource, error) {
	var us UserSource
	err := s.tx(ctx, func(tx *sql.Tx) error {
		first := int64(0) // the lock of a first failure
		if lockAfter <= 1 {
			first = nanos(at)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO user_sources (username, source, failed_attempts, locked_at)
			VALUES (?, ?, 1, ?)
			ON CONFLICT (username, source) DO UPDATE SET failed_attempts = user_sources.failed_attempts + 1,
			locked_at = CASE WHEN user_sources.locked_at = 0 AND user_sources.failed_attempts + 1 >= ? THEN ? ELSE user_sources.locked_at END`),
			username, source, first, int64(lockAfter), nanos(at))
		if err != nil {
			return fmt.Errorf("record sign-in failure: %w", err)
		}
		us, err = scanUserSource(tx.QueryRowContext(ctx, s.q(`SELECT username, source, last_success_at, failed_attempts, locked_at
			FROM user_sources WHERE username = ? AND source = ?`), username, source), username, source)
		return err
	})
	return us, err
}

// RecordSourceLogin records a sign-in of username from source at at: the
// pair's failures and lock are cleared and the source becomes known.
func (s *sqlStore) RecordSourceLogin(ctx context.Context, username, source string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO user_sources (username, source, last_success_at) VALUES (?, ?, ?)
		ON CONFLICT (username, source) DO UPDATE SET last_success_at = excluded.last_success_at, failed_attempts = 0, locked_at = 0`),
		username, source, nanos(at))
	if err != nil {
		return fmt.Errorf("record sign-in source: %w", err)
	}
	return nil
}

// UnlockSource clears the lock and failures of username from source.
func (s *sqlStore) UnlockSource(ctx context.Context, username, source string) error {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE user_sources SET failed_attempts = 0, locked_at = 0 WHERE username = ? AND source = ?`),
		username, source); err != nil {
		return fmt.Errorf("unlock source: %w", err)
	}
	return nil
}

// ForgetUserSources deletes the source records whose last sign-in is
// before cutoff and that hold no lock: such an address is no longer known
// to its account, so the table does not grow with every address a user
// ever signed in from. It returns how many it deleted.
func (s *sqlStore) ForgetUserSources(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM user_sources WHERE last_success_at < ? AND locked_at = 0`), nanos(cutoff))
	if err != nil {
		return 0, fmt.Errorf("forget user sources: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// LockedSources lists the source records that hold a lock (of any age:
// the caller judges expiry), by account and address.
func (s *sqlStore) LockedSources(ctx context.Context) ([]UserSource, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT username, source, last_success_at, failed_attempts, locked_at
		FROM user_sources WHERE locked_at <> 0 ORDER BY username, source`)
	if err != nil {
		return nil, fmt.Errorf("list locked sources: %w", err)
	}
	defer rows.Close()
	var out []UserSource
	for rows.Next() {
		us, err := scanUserSource(rows, "", "")
		if err != nil {
			return nil, err
		}
		out = append(out, us)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list locked sources: %w", err)
	}
	return out, nil
}
