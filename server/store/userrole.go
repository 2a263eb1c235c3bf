package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SetRole replaces the user's role; ErrNotFound if there is no such user.
// The role is stored as given: callers validate it (users.ParseRole).
// Sessions read the role on every request, so the change applies to the
// user's open sessions at once.
func (s *sqlStore) SetRole(ctx context.Context, username, role string) error {
	if role == "" {
		return errors.New("set role: empty role")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if role != AdminRole {
			if err := s.guardLastAdmin(ctx, tx, username); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET role = ? WHERE username = ?`), role, username)
		if err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil
	})
}
