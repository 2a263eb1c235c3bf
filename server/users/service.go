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

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// Errors of Service.
var (
	// ErrBadCredentials covers an unknown user, a wrong password, a locked
	// account and a throttled source alike: no answer tells which names
	// exist or are locked (there is no "locked" error).
	ErrBadCredentials = errors.New("wrong user name or password")
)

// maxConcurrentHashes bounds the memory argon2id may take at once
// (DefaultParams use 64 MiB each).
const maxConcurrentHashes = 4

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// Auditor records administrative changes; *audit.Log implements it.
type Auditor interface {
	Append(ctx context.Context, e audit.Entry) (store.AuditRow, error)
}

// Config is what Service needs; Store is required. Audit records every
// account change (creation, role, unlock, password change) under the
// acting administrator; nil records none (tests of sign-in only).
type Config struct {
	Store  store.Accounts
	Audit  Auditor
	Params Params
	Now    func() time.Time
	Logger *slog.Logger
	// LockFor is how long a lock lasts before the next sign-in lifts it
	// (an administrator may unlock sooner); DefaultLockFor when zero.
	LockFor time.Duration
	// MFA keeps second factors (mfa.go); nil takes Store's when it has
	// them, as every store.Store does. MFAKey (LoadOrCreateMFAKey) seals
	// TOTP secrets; without it TOTP is unavailable.
	MFA    MFAStore
	MFAKey []byte
	// RequireMFA requires a second factor of every local account, as the
	// server's configuration says, whatever the stored setting.
	RequireMFA bool
}

// Service manages accounts and checks sign-ins.
type Service struct {
	st     store.Accounts
	audit  Auditor
	params Params
	now    func() time.Time
	log    *slog.Logger
	sem    chan struct{}
	// dummy is verified for unknown users so that their answer takes as
	// long as a wrong password's.
	dummy string
	// lockFor is Config.LockFor; sources throttles sign-ins per source
	// address.
	lockFor time.Duration
	sources *sourceThrottle
	// mfa and sealer keep and seal second factors (mfa.go).
	mfa        MFAStore
	sealer     *sealer
	requireMFA bool
}

// New returns a Service. Zero Params mean DefaultParams.
func New(cfg Config) (*Service, error) {
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	dummy, err := Hash("postern-dummy-password", cfg.Params)
	if err != nil {
		return nil, err
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = DefaultLockFor
	}
	if cfg.MFA == nil {
		cfg.MFA, _ = cfg.Store.(MFAStore)
	}
	seal, err := newSealer(cfg.MFAKey)
	if err != nil {
		return nil, err
	}
	return &Service{st: cfg.Store, audit: cfg.Audit, params: cfg.Params, now: cfg.Now, log: cfg.Logger,
		sem: make(chan struct{}, maxConcurrentHashes), dummy: dummy, lockFor: cfg.LockFor,
		sources: newSourceThrottle(SourceFailures, cfg.LockFor), mfa: cfg.MFA, sealer: seal, requireMFA: cfg.RequireMFA}, nil
}

// NewUser is an account to create; Password is the initial one, which
// the user must change at first sign-in (Add generates one when empty).
// By is who creates it, for the audit log ("user:NAME", "os:NAME").
type NewUser struct {
	Username, FirstName, LastName string
	Role                          Role
	Password                      string
	By                            string
}

// ValidUsername reports whether s is an acceptable user name: lowercase
// letters, digits and . _ @ -, at most 64 characters.
func ValidUsername(s string) bool { return usernameRE.MatchString(s) }

// Add creates an account and audits it under nu.By; store.ErrConflict if
// the name is taken. Use Create to learn a generated password.
func (s *Service) Add(ctx context.Context, nu NewUser) (store.User, error) {
	u, _, err := s.Create(ctx, nu)
	return u, err
}

// Create is Add returning the initial password too (the generated one
// when nu.Password is empty), to be shown once.
func (s *Service) Create(ctx context.Context, nu NewUser) (store.User, string, error) {
	if nu.Password == "" {
		pw, err := TemporaryPassword()
		if err != nil {
			return store.User{}, "", err
		}
		nu.Password = pw
		u, err := s.add(ctx, nu)
		var re *RuleError
		if errors.As(err, &re) {
			// The generated password holds part of a name; another
			// will almost surely not.
			if nu.Password, err = TemporaryPassword(); err != nil {
				return store.User{}, "", err
			}
			u, err = s.add(ctx, nu)
		}
		return u, nu.Password, err
	}
	u, err := s.add(ctx, nu)
	return u, nu.Password, err
}

func (s *Service) add(ctx context.Context, nu NewUser) (store.User, error) {
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
	return u, s.record(ctx, nu.By, audit.KindUserCreated, map[string]any{"user": u.Username, "role": u.Role})
}

// record audits an account change by actor. The change is made; an
// error here says it could not be audited.
func (s *Service) record(ctx context.Context, actor, kind string, details map[string]any) error {
	if s.audit == nil {
		return nil
	}
	if actor == "" {
		actor = "unknown"
	}
	if _, err := s.audit.Append(context.WithoutCancel(ctx), audit.Entry{Actor: actor, Kind: kind, Details: details}); err != nil {
		return fmt.Errorf("audit %s: %w", kind, err)
	}
	return nil
}

// SetRole gives the account a role and audits the change;
// store.ErrNotFound if there is no such user. Setting the role it has is
// not a change.
func (s *Service) SetRole(ctx context.Context, by, username string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	u, err := s.st.User(ctx, username)
	if err != nil {
		return err
	}
	if u.Role == string(role) {
		return nil
	}
	if err := s.st.SetRole(ctx, username, string(role)); err != nil {
		return err
	}
	s.log.Info("user role changed", "user", username, "from", u.Role, "to", string(role))
	return s.record(ctx, by, audit.KindUserRoleChanged, map[string]any{"user": username, "from": u.Role, "to": string(role)})
}

// Authenticate checks a sign-in from no particular source (the command
// line, a password change): AuthenticateFrom without a source address.
func (s *Service) Authenticate(ctx context.Context, username, password string) (store.User, error) {
	return s.AuthenticateFrom(ctx, "", username, password)
}

// AuthenticateFrom checks a sign-in from source (the client's address;
// empty for none). Every refusal of a name, a password, a lock, a
// disabled account or a source is ErrBadCredentials after the same
// password hashing, so the answer names neither which accounts exist nor
// which are locked or disabled. The returned user may still have to
// change its password (MustChange, or PasswordAge expired).
//
// Lockout (docs/accounts.md): a source address the account signed in
// from within InactiveAfter is known to it and has its own count: LockAfter
// consecutive failures from it lock the account for that address only.
// Failures from every other address (and from no address) share the
// account's count, whose lock holds for unknown addresses only. So a
// stranger who knows an administrator's name locks them out of nowhere
// they have signed in from, while a spread-out guesser still gets
// LockAfter tries per LockFor in all. Locks last LockFor, are audited
// (user_locked) and lift by themselves (user_unlocked by system:lockout)
// or by an administrator. A source with SourceFailures failures within
// LockFor, over every account, is refused without its password being
// tried or counted against any account.
func (s *Service) AuthenticateFrom(ctx context.Context, source, username, password string) (store.User, error) {
	u, err := s.PasswordFrom(ctx, source, username, password)
	if err != nil {
		return store.User{}, err
	}
	if err := s.FinishSignIn(ctx, source, username); err != nil {
		return store.User{}, err
	}
	u.FailedAttempts = 0
	return u, nil
}

// PasswordFrom is AuthenticateFrom's first step: it checks the password
// alike but records no sign-in and leaves the failure count, for a
// sign-in that goes on to a second factor (FinishSignIn ends it).
func (s *Service) PasswordFrom(ctx context.Context, source, username, password string) (store.User, error) {
	if len(username) > 64 || len(password) > MaxPasswordLen {
		return store.User{}, ErrBadCredentials
	}
	now := s.now()
	if source != "" && !s.sources.allow(source, now) {
		s.verify(ctx, password, s.dummy)
		s.log.Warn("sign-in refused: source throttled", "source", source, "user", username)
		return store.User{}, ErrBadCredentials
	}
	fail := func() (store.User, error) {
		if source != "" {
			s.sources.fail(source, now)
		}
		return store.User{}, ErrBadCredentials
	}
	u, err := s.st.User(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		s.verify(ctx, password, s.dummy)
		return fail()
	}
	if err != nil {
		return store.User{}, err
	}
	if u.OIDC() {
		// No password to try: the answer is a wrong password's, and no
		// guess can lock an account that signs in through its provider.
		s.verify(ctx, password, s.dummy)
		return fail()
	}
	ok, err := s.verify(ctx, password, u.PasswordHash)
	if err != nil {
		return store.User{}, err
	}
	src, known, err := s.knownSource(ctx, u, source, now)
	if err != nil {
		return store.User{}, err
	}
	if locked, err := s.lockHolds(ctx, &u, &src, known, now); err != nil || locked {
		if err == nil {
			s.log.Info("sign-in refused: account locked", "user", username, "source", source, "known_source", known)
			return fail()
		}
		return store.User{}, err
	}
	if !ok {
		if err := s.countFailure(ctx, u, source, known, now); err != nil {
			return store.User{}, err
		}
		return fail()
	}
	if u.Disabled() {
		s.log.Info("sign-in refused: account disabled", "user", username, "source", source, "reason", u.DisabledReason)
		return fail()
	}
	if Inactive(u, now) {
		// The right password of an account unused past InactiveAfter that
		// the sweep has not reached yet: it is deactivated now, and its
		// owner is told nothing more than a stranger would be.
		if _, err := s.deactivate(ctx, u, now); err != nil {
			return store.User{}, err
		}
		return fail()
	}
	return u, nil
}

// knownSource returns the account's record for source and whether the
// account signed in from it within InactiveAfter.
func (s *Service) knownSource(ctx context.Context, u store.User, source string, now time.Time) (store.UserSource, bool, error) {
	if source == "" {
		return store.UserSource{}, false, nil
	}
	src, err := s.st.UserSource(ctx, u.Username, source)
	if err != nil {
		return store.UserSource{}, false, err
	}
	known := !src.LastSuccessAt.IsZero() && now.Sub(src.LastSuccessAt) <= InactiveAfter
	return src, known, nil
}

// lockHolds lifts the lock that applies to this sign-in (the known
// source's, or the account's for unknown sources) once LockFor has passed,
// auditing it, and reports whether it still holds.
func (s *Service) lockHolds(ctx context.Context, u *store.User, src *store.UserSource, known bool, now time.Time) (bool, error) {
	lockedAt := u.LockedAt
	if known {
		lockedAt = src.LockedAt
	}
	if lockedAt.IsZero() {
		return false, nil
	}
	if now.Before(lockedAt.Add(s.lockFor)) {
		return true, nil
	}
	d := map[string]any{"user": u.Username, "reason": "lock expired", "locked_at": lockedAt.UTC().Format(time.RFC3339)}
	if known {
		if err := s.st.UnlockSource(ctx, u.Username, src.Source); err != nil {
			return false, err
		}
		src.LockedAt, src.FailedAttempts = time.Time{}, 0
		d["source"] = src.Source
	} else {
		if err := s.st.Unlock(ctx, u.Username); err != nil {
			return false, err
		}
		u.LockedAt, u.FailedAttempts = time.Time{}, 0
		d["applies_to"] = lockUnknownSources
	}
	s.log.Info("user unlocked: lock expired", "user", u.Username, "locked_at", lockedAt)
	return false, s.record(ctx, actorLockout, audit.KindUserUnlocked, d)
}

// What an account's lock applies to, in its audit rows.
const lockUnknownSources = "addresses the account has not signed in from"

// countFailure counts a wrong password against the known source or the
// account, auditing the lock it may set.
func (s *Service) countFailure(ctx context.Context, u store.User, source string, known bool, now time.Time) error {
	var locked bool
	var failures int
	if known {
		src, err := s.st.RecordSourceFailure(ctx, u.Username, source, LockAfter, now)
		if err != nil {
			return err
		}
		locked, failures = src.Locked(), src.FailedAttempts
	} else {
		after, err := s.st.RecordLoginFailure(ctx, u.Username, LockAfter, now)
		if err != nil {
			return err
		}
		locked, failures = after.Locked(), after.FailedAttempts
	}
	if !locked {
		return nil
	}
	until := now.Add(s.lockFor)
	s.log.Warn("account locked", "user", u.Username, "failures", failures, "source", source, "known_source", known, "until", until)
	d := map[string]any{"user": u.Username, "failures": failures, "until": until.UTC().Format(time.RFC3339)}
	if source != "" {
		d["source"] = source
	}
	if known {
		d["applies_to"] = "this address"
	} else {
		d["applies_to"] = lockUnknownSources
	}
	return s.record(ctx, actorLockout, audit.KindUserLocked, d)
}

// InactiveAfter is how long an account may go without a sign-in before
// it is deactivated (Policy 550.04 A.5, as for devices).
const InactiveAfter = 90 * 24 * time.Hour

// LastActive is the account's latest sign-in, password change (an
// administrator's reset included), enabling or creation.
func LastActive(u store.User) time.Time {
	last := u.CreatedAt
	for _, t := range []time.Time{u.LastLoginAt, u.PasswordChangedAt, u.EnabledAt} {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// Inactive reports whether u has been unused for more than InactiveAfter
// at now: its sign-ins are refused until an administrator reactivates
// it with a password reset (ResetPassword).
func Inactive(u store.User, now time.Time) bool {
	return now.Sub(LastActive(u)) > InactiveAfter
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
	return s.record(ctx, "user:"+username, audit.KindPasswordChanged, map[string]any{"user": username})
}

// ResetPassword gives the user a new temporary password, which must be
// changed at the next sign-in, and audits it under by; it returns the
// password, to be shown once. store.ErrNotFound if there is no such user.
// A lock stays: unlocking is its own decision (Unlock).
func (s *Service) ResetPassword(ctx context.Context, by, username string) (string, error) {
	u, err := s.st.User(ctx, username)
	if err != nil {
		return "", err
	}
	if u.OIDC() {
		return "", ErrOIDCAccount
	}
	var pw string
	for range 3 {
		if pw, err = TemporaryPassword(); err != nil {
			return "", err
		}
		// A generated password that holds part of a name is drawn again.
		if err = CheckRules(pw, Identity{u.Username, u.FirstName, u.LastName}); err == nil {
			break
		}
	}
	if err != nil {
		return "", err
	}
	h, err := s.hash(ctx, pw)
	if err != nil {
		return "", err
	}
	if err := s.st.SetPassword(ctx, username, h, s.now(), true, HistorySize); err != nil {
		return "", err
	}
	// Sessions opened with the old password end: a reset is often made
	// because it leaked.
	if err := s.st.DeleteUserSessions(ctx, username); err != nil {
		return "", err
	}
	s.log.Info("password reset", "user", username)
	return pw, s.record(ctx, by, audit.KindPasswordReset, map[string]any{"user": username})
}

// Unlock clears a lock and audits it under by; store.ErrNotFound if there
// is no such user.
func (s *Service) Unlock(ctx context.Context, by, username string) error {
	if err := s.st.Unlock(ctx, username); err != nil {
		return err
	}
	s.log.Info("user unlocked", "user", username)
	return s.record(ctx, by, audit.KindUserUnlocked, map[string]any{"user": username})
}

// List returns every account.
func (s *Service) List(ctx context.Context) ([]store.User, error) { return s.st.Users(ctx) }

// MustChangePassword reports whether u may only change its password: a
// first password, or one past its maximum age.
func (s *Service) MustChangePassword(u store.User) bool {
	if u.OIDC() {
		return false // no password to change
	}
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
