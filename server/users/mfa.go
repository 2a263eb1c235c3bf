package users

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// MFAStore is what the second factors need of the store: every
// store.Store has it.
type MFAStore interface {
	store.MFAStore
	PutState(ctx context.Context, name string, value []byte, at time.Time) error
	State(ctx context.Context, name string) ([]byte, time.Time, error)
}

// Errors of the second factors.
var (
	// ErrBadCode covers a wrong code, a code already used, an unknown
	// recovery code and a refused security key alike.
	ErrBadCode = errors.New("wrong or already used code")
	// ErrTOTPEnabled is returned when TOTP is set up again without being
	// removed first: a signed-in session alone must not replace it.
	ErrTOTPEnabled = errors.New("an authenticator app is already set up; remove it first")
	// ErrMFAConfigured: the server's configuration requires MFA, so the
	// setting cannot be switched off.
	ErrMFAConfigured = errors.New("the server's configuration (require_mfa) requires a second factor; change it there")
	// ErrNoMFAStore is returned when the store keeps no second factors.
	ErrNoMFAStore = errors.New("this store keeps no second factors")
)

// TOTP parameters: RFC 6238's defaults, which every authenticator app
// reads (SHA-1, 6 digits, 30 s), and one step of skew either side for a
// phone's clock.
const (
	totpPeriod = 30
	totpSkew   = 1
	totpIssuer = "Postern"
	// RecoveryCodeCount codes are made at a time.
	RecoveryCodeCount = 10
	// mfaRequiredState is the server_state row of the requirement.
	mfaRequiredState = "require_mfa"
)

// MFAStatus is which second factors an account has.
type MFAStatus struct {
	TOTP          bool
	SecurityKeys  int
	RecoveryCodes int
}

// Enrolled reports whether the account has a second factor.
func (m MFAStatus) Enrolled() bool { return m.TOTP || m.SecurityKeys > 0 }

// MFAStatus returns the account's second factors.
func (s *Service) MFAStatus(ctx context.Context, username string) (MFAStatus, error) {
	if s.mfa == nil {
		return MFAStatus{}, nil
	}
	var st MFAStatus
	m, err := s.mfa.UserMFA(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return MFAStatus{}, err
	default:
		st.TOTP = !m.TOTPEnabledAt.IsZero()
	}
	keys, err := s.mfa.WebAuthnCredentials(ctx, username)
	if err != nil {
		return MFAStatus{}, err
	}
	st.SecurityKeys = len(keys)
	if st.RecoveryCodes, err = s.mfa.RecoveryCodesLeft(ctx, username); err != nil {
		return MFAStatus{}, err
	}
	return st, nil
}

// MFARequired reports whether every local account must have a second
// factor: an administrator's setting, shared by every replica, or the
// server's configuration (Config.RequireMFA).
func (s *Service) MFARequired(ctx context.Context) (bool, error) {
	if s.requireMFA {
		return true, nil
	}
	if s.mfa == nil {
		return false, nil
	}
	v, _, err := s.mfa.State(ctx, mfaRequiredState)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var on bool
	if err := json.Unmarshal(v, &on); err != nil {
		return false, fmt.Errorf("read %s: %w", mfaRequiredState, err)
	}
	return on, nil
}

// MFARequiredByConfig reports whether the server's configuration
// requires MFA (the setting cannot then be switched off).
func (s *Service) MFARequiredByConfig() bool { return s.requireMFA }

// SetMFARequired switches the requirement on or off and audits it under
// by. Accounts without a second factor must enrol at their next sign-in.
func (s *Service) SetMFARequired(ctx context.Context, by string, on bool) error {
	if s.mfa == nil {
		return ErrNoMFAStore
	}
	if s.requireMFA && !on {
		return ErrMFAConfigured
	}
	was, err := s.MFARequired(ctx)
	if err != nil {
		return err
	}
	if was == on {
		return nil
	}
	v, _ := json.Marshal(on)
	if err := s.mfa.PutState(ctx, mfaRequiredState, v, s.now()); err != nil {
		return err
	}
	s.log.Info("mfa requirement changed", "required", on, "by", by)
	if err := s.record(ctx, by, audit.KindMFARequirement, map[string]any{"required": on}); err != nil {
		return err
	}
	if !on {
		return nil
	}
	_, err = s.EndSessionsWithoutMFA(ctx)
	return err
}

// EndSessionsWithoutMFA ends the sessions of every local account that has
// no second factor, so that with MFA required each one enrols before its
// next page rather than at its next sign-in. It returns how many accounts
// it signed out.
func (s *Service) EndSessionsWithoutMFA(ctx context.Context) (int, error) {
	list, err := s.st.Users(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range list {
		if u.OIDC() {
			continue
		}
		st, err := s.MFAStatus(ctx, u.Username)
		if err != nil {
			return n, err
		}
		if st.Enrolled() {
			continue
		}
		if err := s.st.DeleteUserSessions(ctx, u.Username); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		s.log.Info("signed out accounts without a second factor", "accounts", n)
	}
	return n, nil
}

// TOTPEnrolment is a new TOTP secret awaiting its first code.
type TOTPEnrolment struct {
	// Secret is the base32 secret, for typing into an app.
	Secret string
	// URL is the otpauth:// URL the QR code holds.
	URL string
	// QR is the URL as a PNG QR code.
	QR []byte
}

// BeginTOTP makes a new secret for username, stored sealed and switched
// off until ConfirmTOTP. An account whose TOTP is on gets ErrTOTPEnabled.
func (s *Service) BeginTOTP(ctx context.Context, username string) (TOTPEnrolment, error) {
	if s.mfa == nil {
		return TOTPEnrolment{}, ErrNoMFAStore
	}
	if s.sealer == nil {
		return TOTPEnrolment{}, ErrNoMFAKey
	}
	if st, err := s.MFAStatus(ctx, username); err != nil {
		return TOTPEnrolment{}, err
	} else if st.TOTP {
		return TOTPEnrolment{}, ErrTOTPEnabled
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: username, Period: totpPeriod, Algorithm: otp.AlgorithmSHA1, Digits: otp.DigitsSix})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("make totp secret: %w", err)
	}
	sealed, err := s.sealer.seal(username, key.Secret())
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if err := s.mfa.SetTOTPSecret(ctx, username, sealed); err != nil {
		return TOTPEnrolment{}, err
	}
	return totpEnrolment(key)
}

// PendingTOTP returns the enrolment awaiting confirmation, so that a page
// reload shows the same secret; store.ErrNotFound when there is none.
func (s *Service) PendingTOTP(ctx context.Context, username string) (TOTPEnrolment, error) {
	if s.mfa == nil {
		return TOTPEnrolment{}, store.ErrNotFound
	}
	m, err := s.mfa.UserMFA(ctx, username)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if m.TOTPSecret == "" || !m.TOTPEnabledAt.IsZero() {
		return TOTPEnrolment{}, store.ErrNotFound
	}
	secret, err := s.sealer.open(username, m.TOTPSecret)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	raw, err := base32NoPad.DecodeString(strings.ToUpper(secret))
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("decode totp secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: username, Period: totpPeriod, Algorithm: otp.AlgorithmSHA1,
		Digits: otp.DigitsSix, Secret: raw})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return totpEnrolment(key)
}

func totpEnrolment(key *otp.Key) (TOTPEnrolment, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("draw totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("draw totp qr code: %w", err)
	}
	return TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QR: buf.Bytes()}, nil
}

// ConfirmTOTP switches on the pending secret if code is right for it now
// and returns new recovery codes when the account had none (shown once).
// The confirming code cannot be used again to sign in.
func (s *Service) ConfirmTOTP(ctx context.Context, username, code string) ([]string, error) {
	if s.mfa == nil {
		return nil, ErrNoMFAStore
	}
	m, err := s.mfa.UserMFA(ctx, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (m.TOTPSecret == "" || !m.TOTPEnabledAt.IsZero())) {
		return nil, errors.New("no authenticator app is waiting for confirmation; start again")
	}
	if err != nil {
		return nil, err
	}
	secret, err := s.sealer.open(username, m.TOTPSecret)
	if err != nil {
		return nil, err
	}
	now := s.now()
	step, ok := matchTOTP(secret, code, now)
	if !ok {
		return nil, ErrBadCode
	}
	if err := s.mfa.EnableTOTP(ctx, username, now, step); err != nil {
		return nil, err
	}
	s.log.Info("totp enabled", "user", username)
	if err := s.record(ctx, "user:"+username, audit.KindMFAEnrolled, map[string]any{"user": username, "method": "totp"}); err != nil {
		return nil, err
	}
	return s.FirstRecoveryCodes(ctx, username)
}

// FirstRecoveryCodes makes recovery codes for an account that has none
// left (its first second factor); nil when it still has some.
func (s *Service) FirstRecoveryCodes(ctx context.Context, username string) ([]string, error) {
	if s.mfa == nil {
		return nil, ErrNoMFAStore
	}
	n, err := s.mfa.RecoveryCodesLeft(ctx, username)
	if err != nil || n > 0 {
		return nil, err
	}
	return s.NewRecoveryCodes(ctx, "user:"+username, username)
}

// RemoveTOTP switches TOTP off for the user, audited as their own act.
func (s *Service) RemoveTOTP(ctx context.Context, username string) error {
	if s.mfa == nil {
		return ErrNoMFAStore
	}
	if err := s.mfa.DisableTOTP(ctx, username); err != nil {
		return err
	}
	s.log.Info("totp removed", "user", username)
	if err := s.record(ctx, "user:"+username, audit.KindMFARemoved, map[string]any{"user": username, "method": "totp"}); err != nil {
		return err
	}
	return s.PruneRecoveryCodes(ctx, username)
}

// PruneRecoveryCodes drops the recovery codes of an account left without
// a second factor: they stand in for a factor, and a factor set up later
// comes with new ones rather than codes printed long before.
func (s *Service) PruneRecoveryCodes(ctx context.Context, username string) error {
	if s.mfa == nil {
		return ErrNoMFAStore
	}
	st, err := s.MFAStatus(ctx, username)
	if err != nil || st.Enrolled() || st.RecoveryCodes == 0 {
		return err
	}
	return s.mfa.ReplaceRecoveryCodes(ctx, username, nil, s.now())
}

// matchTOTP returns the time step at now (or one either side) whose code
// is code.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	found, step := false, int64(0)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix((cur+d)*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		// Every step is compared, so that the time taken does not say
		// which matched; the latest match wins.
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, step = true, cur+d
		}
	}
	return step, found
}

// SecondFactor is a sign-in's second step, after PasswordFrom accepted
// the password.
type SecondFactor struct {
	// Source is the client's address (for the per-source throttle).
	Source   string
	Username string
}

// AllowSecondFactor refuses (ErrBadCode) a second factor from a
// throttled source or for a locked account, as a password would be.
func (s *Service) AllowSecondFactor(ctx context.Context, f SecondFactor) error {
	now := s.now()
	if f.Source != "" && !s.sources.allow(f.Source, now) {
		s.log.Warn("second factor refused: source throttled", "source", f.Source, "user", f.Username)
		return ErrBadCode
	}
	u, err := s.st.User(ctx, f.Username)
	if err != nil {
		return err
	}
	if u.Disabled() {
		return ErrBadCode
	}
	src, known, err := s.knownSource(ctx, u, f.Source, now)
	if err != nil {
		return err
	}
	if locked, err := s.lockHolds(ctx, &u, &src, known, now); err != nil || locked {
		if err == nil {
			err = ErrBadCode
		}
		return err
	}
	return nil
}

// RefuseSecondFactor counts a refused second factor like a wrong
// password (the account's consecutive failures and the source's), audits
// it with method and why, and returns ErrBadCode.
func (s *Service) RefuseSecondFactor(ctx context.Context, f SecondFactor, method, why string) error {
	now := s.now()
	if f.Source != "" {
		s.sources.fail(f.Source, now)
	}
	u, err := s.st.User(ctx, f.Username)
	if err != nil {
		return err
	}
	_, known, err := s.knownSource(ctx, u, f.Source, now)
	if err != nil {
		return err
	}
	if err := s.countFailure(ctx, u, f.Source, known, now); err != nil {
		return err
	}
	s.log.Info("second factor refused", "user", f.Username, "method", method, "reason", why, "source", f.Source)
	if err := s.record(ctx, "user:"+f.Username, audit.KindMFARefused, map[string]any{"user": f.Username, "method": method,
		"reason": why, "source": f.Source}); err != nil {
		return err
	}
	return ErrBadCode
}

// VerifyTOTP checks a sign-in's TOTP code. A code is accepted once: its
// time step must be later than the last accepted one. Wrong and replayed
// codes count as failed sign-ins (ErrBadCode).
func (s *Service) VerifyTOTP(ctx context.Context, f SecondFactor, code string) error {
	if s.mfa == nil {
		return ErrNoMFAStore
	}
	if err := s.AllowSecondFactor(ctx, f); err != nil {
		return err
	}
	m, err := s.mfa.UserMFA(ctx, f.Username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.TOTPEnabledAt.IsZero()) {
		return s.RefuseSecondFactor(ctx, f, "totp", "no authenticator app")
	}
	if err != nil {
		return err
	}
	secret, err := s.sealer.open(f.Username, m.TOTPSecret)
	if err != nil {
		return err
	}
	step, ok := matchTOTP(secret, code, s.now())
	if !ok {
		return s.RefuseSecondFactor(ctx, f, "totp", "wrong code")
	}
	used, err := s.mfa.UseTOTPStep(ctx, f.Username, step)
	if err != nil {
		return err
	}
	if !used {
		return s.RefuseSecondFactor(ctx, f, "totp", "code already used")
	}
	return nil
}

// recoveryAlphabet has no 0/o, 1/l/i: codes are read off paper.
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewRecoveryCodes replaces the account's recovery codes with
// RecoveryCodeCount new ones, returned to be shown once; the old ones stop
// working. Audited under by.
func (s *Service) NewRecoveryCodes(ctx context.Context, by, username string) ([]string, error) {
	if s.mfa == nil {
		return nil, ErrNoMFAStore
	}
	codes := make([]string, RecoveryCodeCount)
	hashes := make([]string, RecoveryCodeCount)
	for i := range codes {
		c, err := recoveryCode()
		if err != nil {
			return nil, err
		}
		codes[i], hashes[i] = c, hashRecoveryCode(c)
	}
	if err := s.mfa.ReplaceRecoveryCodes(ctx, username, hashes, s.now()); err != nil {
		return nil, err
	}
	s.log.Info("recovery codes created", "user", username)
	return codes, s.record(ctx, by, audit.KindRecoveryCodesCreated, map[string]any{"user": username, "count": RecoveryCodeCount})
}

// recoveryCode is 16 symbols of a 31-symbol alphabet (79 bits) in four
// groups: too many to guess, so a plain SHA-256 stores it safely.
func recoveryCode() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	var sb strings.Builder
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		// 256 is not a multiple of 31: redraw the few biased bytes.
		for v >= 248 {
			var one [1]byte
			if _, err := rand.Read(one[:]); err != nil {
				return "", err
			}
			v = one[0]
		}
		sb.WriteByte(recoveryAlphabet[int(v)%len(recoveryAlphabet)])
	}
	return sb.String(), nil
}

// normalizeRecoveryCode forgives case, spaces and dashes.
func normalizeRecoveryCode(code string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(code) {
		if r != '-' && r != ' ' {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func hashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte("postern-recovery-code:" + normalizeRecoveryCode(code)))
	return hex.EncodeToString(sum[:])
}

// UseRecoveryCode accepts an unused recovery code in place of the second
// factor, once, and audits it; a wrong or used code counts as a failed
// sign-in (ErrBadCode). left is how many remain.
func (s *Service) UseRecoveryCode(ctx context.Context, f SecondFactor, code string) (left int, err error) {
	if s.mfa == nil {
		return 0, ErrNoMFAStore
	}
	if err := s.AllowSecondFactor(ctx, f); err != nil {
		return 0, err
	}
	if n := len(normalizeRecoveryCode(code)); n != 16 {
		return 0, s.RefuseSecondFactor(ctx, f, "recovery_code", "wrong code")
	}
	ok, err := s.mfa.UseRecoveryCode(ctx, f.Username, hashRecoveryCode(code), s.now())
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, s.RefuseSecondFactor(ctx, f, "recovery_code", "wrong or used code")
	}
	if left, err = s.mfa.RecoveryCodesLeft(ctx, f.Username); err != nil {
		return 0, err
	}
	s.log.Warn("recovery code used", "user", f.Username, "left", left, "source", f.Source)
	return left, s.record(ctx, "user:"+f.Username, audit.KindRecoveryCodeUsed, map[string]any{"user": f.Username, "left": left, "source": f.Source})
}

// ResetMFA removes every second factor of the account (a lost phone or
// key), audited under by. With MFA required, the user enrols again at
// the next sign-in. store.ErrNotFound if there is no such user.
func (s *Service) ResetMFA(ctx context.Context, by, username string) error {
	if s.mfa == nil {
		return ErrNoMFAStore
	}
	if _, err := s.st.User(ctx, username); err != nil {
		return err
	}
	if err := s.mfa.ResetMFA(ctx, username); err != nil {
		return err
	}
	s.log.Warn("second factors reset", "user", username, "by", by)
	return s.record(ctx, by, audit.KindMFAReset, map[string]any{"user": username})
}

// FinishSignIn records the sign-in from source (empty for none) of an
// account whose password (and second factor, when it has or needs one)
// passed: the failure counts clear only now, so that a right password
// does not reset the count of wrong codes, and source becomes an address
// the account is known to sign in from.
func (s *Service) FinishSignIn(ctx context.Context, source, username string) error {
	now := s.now()
	if err := s.st.RecordLogin(ctx, username, now); err != nil {
		return err
	}
	if source != "" {
		if err := s.st.RecordSourceLogin(ctx, username, source, now); err != nil {
			return err
		}
	}
	return nil
}

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)
