package store

import "context"

func (s *sqlStore) UserByOIDC(ctx context.Context, issuer, subject string) (User, error) {
	if subject == "" {
		return User{}, ErrNotFound
	}
	return scanUser(s.r.QueryRowContext(ctx, s.q(`SELECT `+userReadColumns+` FROM users WHERE oidc_issuer = ? AND oidc_subject = ?`), issuer, subject))
}
