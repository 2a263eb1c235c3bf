package users

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postern-dev/postern/server/store"
)

// Errors of Service.
var (
	// ErrBadCredentials covers an unknown user and a wrong password alike.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrLocked is returned once LockAfter consecutive failures locked the
	// account; an administrator must unlock it.
	ErrLocked = errors.New("account locked after too many failed sign-ins; ask an administrator to unlock it")
)

// maxConcurrentHashes bounds the memory argon2id may take at once
// (DefaultParams use 64 MiB each).
const maxConcurrentHashes = 4

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// Config is what Service needs; Store is required.
type Config struct {
	Store  store.Accounts
	Params Params
	Now    func() time.Time
	Logger *slog.Logger
}

// Service manages accounts and checks sign-ins.
type Service struct {
	st     store.Accounts
	params Params
	now    func() time.Time
	log    *slog.Logger
	sem    chan struct{}
	// dummy is verified for unknown users so that their answer takes as
	// long as a wrong password's.
	dummy string
}

// New returns a Service. Zero Params mean DefaultParams.
func New(cfg Config) (*Service, error) {
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	dummy, err := Hash("postern-dummy-password", cfg.Params)
	if err != nil {
		return nil, err
	}
	return &Service{st: cfg.Store, params: cfg.Params, now: cfg.Now, log: cfg.Logger,
		sem: make(chan struct{}, maxConcurrentHashes), dummy: dummy}, nil
}

// NewUser is an account to create; Password is the initial one, which
// the user must change at first sign-in.
type NewUser struct {
	Username, FirstName, LastName string
	Role                          Role
	Password                      string
}

// ValidUsername reports whether s is an acceptable user name: lowercase
// letters, digits and . _ @ -, at most 64 characters.
func ValidUsername(s string) bool { return usernameRE.MatchString(s) }

// Add creates an account; store.ErrConflict if the name is taken.
func (s *Service) Add(ctx context.Context, nu NewUser) (store.User, error) {
	if !ValidUsername(nu.Username) {
		return store.User{}, fmt.Errorf("user name %q: use 1 to 64 lowercase letters, digits, '.', '_', '@' or '-'", nu.Username)
	}
	for _, n := range []string{nu.FirstName, nu.LastName} {
		if strings.TrimSpace(n) == "" || utf8.RuneCountInString(n) > 100 || !utf8.ValidString(n) {
			return store.User{}, errors.New("first and last name are required, at most 100 characters")
		}
	}
	if _, err := ParseRole(string(nu.Role)); err != nil {
		return store.User{}, err
	}
	if err := CheckRules(nu.Password, Identity{nu.Username, nu.FirstName, nu.LastName}); err != nil {
		return store.User{}, err
	}
	h, err := s.hash(ctx, nu.Password)
	if err != nil {
		return store.User{}, err
	}
	now := s.now()
	u := store.User{Username: nu.Username, FirstName: strings.TrimSpace(nu.FirstName), LastName: strings.TrimSpace(nu.LastName),
		Role: string(nu.Role), PasswordHash: h, PasswordChangedAt: now, MustChange: true, CreatedAt: now}
	if err := s.st.CreateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	s.log.Info("user created", "user", u.Username, "role", u.Role)
	return u, nil
}

// Authenticate checks a sign-in. It counts consecutive failures and locks
// the account at LockAfter. The returned user may still have to change
// its password (MustChange, or PasswordAge expired).
func (s *Service) Authenticate(ctx context.Context, username, password string) (store.User, error) {
	if len(username) > 64 || len(password) > MaxPasswordLen {
		return store.User{}, ErrBadCredentials
	}
	u, err := s.st.User(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		s.verify(ctx, password, s.dummy)
		return store.User{}, ErrBadCredentials
	}
	if err != nil {
		return store.User{}, err
	}
	ok, err := s.verify(ctx, password, u.PasswordHash)
	if err != nil {
		return store.User{}, err
	}
	if u.Locked() {
		return store.User{}, ErrLocked
	}
	if !ok {
		u, err = s.st.RecordLoginFailure(ctx, username, LockAfter, s.now())
		if err != nil {
			return store.User{}, err
		}
		if u.Locked() {
			s.log.Warn("account locked", "user", username, "failures", u.FailedAttempts)
			return store.User{}, ErrLocked
		}
		return store.User{}, ErrBadCredentials
	}
	if err := s.st.RecordLogin(ctx, username, s.now()); err != nil {
		return store.User{}, err
	}
	u.FailedAttempts = 0
	return u, nil
}

// ChangePassword replaces the user's password after checking the current
// one, the rules and the history. A wrong current password counts as a
// failed sign-in.
func (s *Service) ChangePassword(ctx context.Context, username, current, next string) error {
	if _, err := s.Authenticate(ctx, username, current); err != nil {
		return err
	}
	u, err := s.st.User(ctx, username)
	if err != nil {
		return err
	}
	if err := CheckRules(next, Identity{u.Username, u.FirstName, u.LastName}); err != nil {
		return err
	}
	hist, err := s.st.PasswordHistory(ctx, username, HistorySize)
	if err != nil {
		return err
	}
	for _, h := range append([]string{u.PasswordHash}, hist...) {
		if same, _ := s.verify(ctx, next, h); same {
			return ErrPasswordReused
		}
	}
	h, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	if err := s.st.SetPassword(ctx, username, h, s.now(), false, HistorySize); err != nil {
		return err
	}
	s.log.Info("password changed", "user", username)
	return nil
}

// Unlock clears a lock; store.ErrNotFound if there is no such user.
func (s *Service) Unlock(ctx context.Context, username string) error {
	if err := s.st.Unlock(ctx, username); err != nil {
		return err
	}
	s.log.Info("user unlocked", "user", username)
	return nil
}

// List returns every account.
func (s *Service) List(ctx context.Context) ([]store.User, error) { return s.st.Users(ctx) }

// MustChangePassword reports whether u may only change its password: a
// first password, or one past its maximum age.
func (s *Service) MustChangePassword(u store.User) bool {
	return u.MustChange || PasswordAge(u.PasswordChangedAt, s.now()).Expired
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.sem }()
	return Hash(pw, s.params)
}

func (s *Service) verify(ctx context.Context, pw, encoded string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.sem }()
	ok, err := Verify(pw, encoded)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return ok, nil
}
