package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// Security keys and platform authenticators (WebAuthn) as a second
// factor. The relying party is the host name the browser reached the
// dashboard by (Config.WebAuthnHosts limits which); the page's origin is
// checked in every response, and a credential is only offered on the
// name it was registered on. The browser side is static/webauthn.js:
// it fetches the options, asks the authenticator and posts its answer in
// an ordinary form.

// errNoRelyingParty: the dashboard was reached by an IP address or by a
// name not in Config.WebAuthnHosts.
var errNoRelyingParty = errors.New("security keys work only when the dashboard is reached by its configured host name")

// maxCredentialJSON bounds a posted WebAuthn response.
const maxCredentialJSON = 16 << 10

// relyingParty is the WebAuthn relying party for r's host.
func (d *Dashboard) relyingParty(r *http.Request) (*webauthn.WebAuthn, string, error) {
	host := r.Host
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.ToLower(name)
	if name == "" || net.ParseIP(name) != nil {
		return nil, "", errNoRelyingParty
	}
	if len(d.cfg.WebAuthnHosts) > 0 && !slices.Contains(d.cfg.WebAuthnHosts, name) {
		return nil, "", errNoRelyingParty
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: name, RPDisplayName: "Postern", RPOrigins: []string{"https://" + strings.ToLower(host)}})
	if err != nil {
		return nil, "", fmt.Errorf("webauthn relying party %s: %w", name, err)
	}
	return wa, name, nil
}

// waUser is an account as go-webauthn sees it: its credentials on one
// relying party.
type waUser struct {
	id          []byte
	name, shown string
	creds       []webauthn.Credential
	rows        []store.WebAuthnCredential
}

func (u *waUser) WebAuthnID() []byte                         { return u.id }
func (u *waUser) WebAuthnName() string                       { return u.name }
func (u *waUser) WebAuthnDisplayName() string                { return u.shown }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// loadWAUser reads username's credentials registered on rpID; create
// makes the account's user handle when it has none.
func (d *Dashboard) loadWAUser(ctx context.Context, username, rpID string, create bool) (*waUser, error) {
	u, err := d.st.User(ctx, username)
	if err != nil {
		return nil, err
	}
	wu := &waUser{name: u.Username, shown: strings.TrimSpace(u.FirstName + " " + u.LastName)}
	var handle string
	m, err := d.st.UserMFA(ctx, username)
	switch {
	case err == nil:
		handle = m.WebAuthnID
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	if handle == "" && create {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		if handle, err = d.st.SetWebAuthnID(ctx, username, base64.RawURLEncoding.EncodeToString(b)); err != nil {
			return nil, err
		}
	}
	if wu.id, err = base64.RawURLEncoding.DecodeString(handle); err != nil {
		return nil, fmt.Errorf("webauthn user handle of %s: %w", username, err)
	}
	rows, err := d.st.WebAuthnCredentials(ctx, username)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		if row.RPID != rpID {
			continue
		}
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(row.Data), &c); err != nil {
			return nil, fmt.Errorf("read webauthn credential %s: %w", row.ID, err)
		}
		wu.creds = append(wu.creds, c)
		wu.rows = append(wu.rows, row)
	}
	return wu, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	jsonenc.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// saveCeremony keeps a ceremony's session data in the challenge row. The
// library's own expiry is cleared: the row's (the dashboard's clock)
// bounds the ceremony.
func (d *Dashboard) saveCeremony(ctx context.Context, idHash string, sd *webauthn.SessionData) error {
	sd.Expires = time.Time{}
	b, err := jsonenc.Marshal(sd)
	if err != nil {
		return err
	}
	return d.st.SetMFAChallengeData(ctx, idHash, string(b))
}

// takeCeremony reads the ceremony's session data and clears it, so that
// one challenge is answered at most once.
func (d *Dashboard) takeCeremony(ctx context.Context, ch store.MFAChallenge) (webauthn.SessionData, error) {
	var sd webauthn.SessionData
	if ch.Data == "" {
		return sd, errors.New("no security key request is pending")
	}
	if err := d.st.SetMFAChallengeData(ctx, ch.IDHash, ""); err != nil {
		return sd, err
	}
	if err := json.Unmarshal([]byte(ch.Data), &sd); err != nil {
		return sd, fmt.Errorf("read webauthn ceremony: %w", err)
	}
	return sd, nil
}

// loginOptions starts a security-key sign-in for the challenge's account.
func (d *Dashboard) loginOptions(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		jsonError(w, http.StatusBadRequest, "the request could not be read")
		return
	}
	ch, ok := d.jsonChallenge(w, r, purposeVerify)
	if !ok {
		return
	}
	wa, rpID, err := d.relyingParty(r)
	if err != nil {
		jsonError(w, http.StatusConflict, capitalize(err.Error())+".")
		return
	}
	ctx := r.Context()
	wu, err := d.loadWAUser(ctx, ch.Username, rpID, false)
	if err != nil {
		d.log.Error("read webauthn credentials failed", "err", err)
		jsonError(w, http.StatusInternalServerError, "Security keys are unavailable; use a code.")
		return
	}
	if len(wu.creds) == 0 {
		jsonError(w, http.StatusConflict, "No security key of this account is registered for "+rpID+".")
		return
	}
	opts, sd, err := wa.BeginLogin(wu, webauthn.WithUserVerification(protocol.VerificationDiscouraged))
	if err == nil {
		err = d.saveCeremony(ctx, ch.IDHash, sd)
	}
	if err != nil {
		d.log.Error("begin webauthn sign-in failed", "err", err)
		jsonError(w, http.StatusInternalServerError, "Security keys are unavailable; use a code.")
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

// jsonChallenge is challenge for the script's requests: a JSON error
// instead of a redirect.
func (d *Dashboard) jsonChallenge(w http.ResponseWriter, r *http.Request, purpose string) (store.MFAChallenge, bool) {
	if c, err := r.Cookie(ChallengeCookie); err == nil && len(c.Value) > 0 && len(c.Value) <= 64 {
		ch, err := d.st.MFAChallenge(r.Context(), store.HashSecret([]byte(c.Value)), d.now())
		if err == nil && ch.Purpose == purpose {
			return ch, true
		}
	}
	jsonError(w, http.StatusUnauthorized, "The sign-in took too long; sign in again.")
	return store.MFAChallenge{}, false
}

// loginWebAuthn checks the authenticator's answer (the form's credential
// field) and signs the user in.
func (d *Dashboard) loginWebAuthn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes+maxCredentialJSON)
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	ch, ok := d.challenge(w, r, purposeVerify)
	if !ok {
		return
	}
	ctx := r.Context()
	f := users.SecondFactor{Source: sourceAddr(r), Username: ch.Username}
	if err := d.cfg.Users.AllowSecondFactor(ctx, f); err != nil {
		d.secondFactorRefused(w, r, ch, err)
		return
	}
	why, err := d.checkAssertion(r, ch)
	if err != nil {
		d.log.Error("webauthn sign-in failed", "err", err)
		d.renderVerify(w, r, ch, http.StatusInternalServerError, "Sign-in is unavailable; try again later.")
		return
	}
	if why != "" {
		d.secondFactorRefused(w, r, ch, d.cfg.Users.RefuseSecondFactor(ctx, f, "webauthn", why))
		return
	}
	if _, ok := d.finishChallenge(w, r, ch, factorSecurityKey); !ok {
		return
	}
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// checkAssertion verifies the posted assertion against the challenge's
// ceremony and stores the credential's new counter. why says why a
// refused assertion was refused; err is a server failure.
func (d *Dashboard) checkAssertion(r *http.Request, ch store.MFAChallenge) (why string, err error) {
	ctx := r.Context()
	sd, err := d.takeCeremony(ctx, ch)
	if err != nil {
		return "no pending request", nil
	}
	wa, rpID, err := d.relyingParty(r)
	if err != nil {
		return "wrong host", nil
	}
	raw := r.PostForm.Get("credential")
	if raw == "" || len(raw) > maxCredentialJSON {
		return "no answer", nil
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(raw))
	if err != nil {
		return "unreadable answer", nil
	}
	wu, err := d.loadWAUser(ctx, ch.Username, rpID, false)
	if err != nil {
		return "", err
	}
	cred, err := wa.ValidateLogin(wu, sd, parsed)
	if err != nil {
		d.log.Info("webauthn assertion refused", "user", ch.Username, "err", err)
		return "assertion refused", nil
	}
	if cred.Authenticator.CloneWarning {
		d.log.Warn("webauthn signature counter went back: the key may be cloned", "user", ch.Username)
		return "signature counter went back (cloned key?)", nil
	}
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	data, err := jsonenc.Marshal(cred)
	if err != nil {
		return "", err
	}
	if err := d.st.UpdateWebAuthnCredential(ctx, id, string(data), d.now()); err != nil {
		return "", err
	}
	return "", nil
}

// registrationChallenge is the challenge row of a signed-in user's key
// registration, bound to their session.
func registrationChallenge(s *signedIn) string { return "register:" + s.Session.IDHash }

// beginRegistration makes the options of a key registration for
// username and keeps its ceremony in the challenge row idHash.
func (d *Dashboard) beginRegistration(r *http.Request, username, idHash string) (*protocol.CredentialCreation, error) {
	wa, rpID, err := d.relyingParty(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	wu, err := d.loadWAUser(ctx, username, rpID, true)
	if err != nil {
		return nil, err
	}
	opts, sd, err := wa.BeginRegistration(wu,
		webauthn.WithExclusions(webauthn.Credentials(wu.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{UserVerification: protocol.VerificationDiscouraged,
			ResidentKey: protocol.ResidentKeyRequirementDiscouraged}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, err
	}
	return opts, d.saveCeremony(ctx, idHash, sd)
}

// writeRegistrationOptions answers the script with the options, or why
// there are none.
func (d *Dashboard) writeRegistrationOptions(w http.ResponseWriter, opts *protocol.CredentialCreation, err error) {
	switch {
	case errors.Is(err, errNoRelyingParty):
		jsonError(w, http.StatusConflict, capitalize(err.Error())+".")
	case err != nil:
		d.log.Error("begin webauthn registration failed", "err", err)
		jsonError(w, http.StatusInternalServerError, "Security keys cannot be registered now.")
	default:
		writeJSON(w, http.StatusOK, opts)
	}
}

// keyOptions starts registering a security key for the signed-in user,
// in a challenge row of its own bound to the session.
func (d *Dashboard) keyOptions(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	id := registrationChallenge(s)
	err := d.st.DeleteMFAChallenge(ctx, id)
	if err == nil {
		now := d.now()
		err = d.st.CreateMFAChallenge(ctx, store.MFAChallenge{IDHash: id, Username: s.User.Username, Purpose: "register", CreatedAt: now, ExpiresAt: now.Add(ChallengeTTL)})
	}
	var opts *protocol.CredentialCreation
	if err == nil {
		opts, err = d.beginRegistration(r, s.User.Username, id)
	}
	d.writeRegistrationOptions(w, opts, err)
}

// keyName is the form's name of a new key; ok is false when it is too
// long.
func keyName(r *http.Request) (string, bool) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if name == "" {
		name = "Security key"
	}
	return name, utf8.RuneCountInString(name) <= 64 && utf8.ValidString(name)
}

// registerKey verifies the posted answer against the ceremony kept in ch
// and stores the key as name, auditing it. problem, when not empty, says
// to the user why the key was not registered; err is a server failure.
func (d *Dashboard) registerKey(r *http.Request, ch store.MFAChallenge, name string) (problem string, err error) {
	ctx := r.Context()
	sd, err := d.takeCeremony(ctx, ch)
	if err != nil {
		return "the request expired; try again", nil
	}
	wa, rpID, err := d.relyingParty(r)
	if err != nil {
		return err.Error(), nil
	}
	raw := r.PostForm.Get("credential")
	if raw == "" || len(raw) > maxCredentialJSON {
		return "the browser sent no answer", nil
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(raw))
	if err != nil {
		return "the browser's answer could not be read", nil
	}
	wu, err := d.loadWAUser(ctx, ch.Username, rpID, true)
	if err != nil {
		return "", err
	}
	cred, err := wa.CreateCredential(wu, sd, parsed)
	if err != nil {
		d.log.Info("webauthn registration refused", "user", ch.Username, "err", err)
		return "the key's answer did not verify", nil
	}
	data, err := jsonenc.Marshal(cred)
	if err != nil {
		return "", err
	}
	err = d.st.AddWebAuthnCredential(ctx, store.WebAuthnCredential{ID: base64.RawURLEncoding.EncodeToString(cred.ID), Username: ch.Username,
		Name: name, RPID: rpID, Data: string(data), CreatedAt: d.now()})
	if errors.Is(err, store.ErrConflict) {
		return "that security key is registered already", nil
	}
	if err != nil {
		return "", err
	}
	d.log.Info("security key registered", "user", ch.Username, "rp_id", rpID)
	d.cfg.Audit.Record(context.WithoutCancel(ctx), audit.Entry{Actor: "user:" + ch.Username, Kind: audit.KindMFAEnrolled,
		Details: map[string]any{"user": ch.Username, "method": "webauthn", "name": name, "rp_id": rpID, "via": "dashboard"}})
	return "", nil
}

// addKey finishes registering a security key for the signed-in user: the
// form carries the authenticator's answer and the key's name.
func (d *Dashboard) addKey(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	name, ok := keyName(r)
	if !ok {
		d.renderAccount(w, r, s, http.StatusUnprocessableEntity, accountView{Error: "A key's name is at most 64 characters."})
		return
	}
	if !d.passwordAgain(w, r, s, func(msg string) {
		d.renderAccount(w, r, s, http.StatusUnprocessableEntity, accountView{Error: "The security key was not registered: " + msg})
	}) {
		return
	}
	id := registrationChallenge(s)
	ch, err := d.st.MFAChallenge(ctx, id, d.now())
	if err != nil {
		d.renderAccount(w, r, s, http.StatusUnprocessableEntity, accountView{Error: "The security key was not registered: the request expired; try again."})
		return
	}
	defer d.st.DeleteMFAChallenge(context.WithoutCancel(ctx), id)
	problem, err := d.registerKey(r, ch, name)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	if problem != "" {
		d.renderAccount(w, r, s, http.StatusUnprocessableEntity, accountView{Error: "The security key was not registered: " + problem + "."})
		return
	}
	codes, err := d.cfg.Users.FirstRecoveryCodes(ctx, s.User.Username)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.showRecoveryCodes(w, r, s, codes, "/ui/account?done=key")
}

// enrolKeyOptions starts registering a security key as the second factor
// an account must set up before its first session (MFA required).
func (d *Dashboard) enrolKeyOptions(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		jsonError(w, http.StatusBadRequest, "the request could not be read")
		return
	}
	ch, ok := d.jsonChallenge(w, r, purposeEnrol)
	if !ok {
		return
	}
	opts, err := d.beginRegistration(r, ch.Username, ch.IDHash)
	d.writeRegistrationOptions(w, opts, err)
}

// enrolKey registers the security key of an account that must enrol,
// then signs it in and shows its recovery codes.
func (d *Dashboard) enrolKey(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes+maxCredentialJSON)
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	ch, ok := d.challenge(w, r, purposeEnrol)
	if !ok {
		return
	}
	name, ok := keyName(r)
	problem := "a key's name is at most 64 characters"
	var err error
	if ok {
		problem, err = d.registerKey(r, ch, name)
	}
	if err != nil {
		d.log.Error("register security key at sign-in failed", "err", err)
		d.renderEnrol(w, r, nil, ch.Username, http.StatusInternalServerError, "The security key could not be registered; try again.", "/ui/login/enrol")
		return
	}
	if problem != "" {
		d.renderEnrol(w, r, nil, ch.Username, http.StatusUnprocessableEntity, "The security key was not registered: "+problem+".", "/ui/login/enrol")
		return
	}
	codes, err := d.cfg.Users.FirstRecoveryCodes(r.Context(), ch.Username)
	if err != nil {
		d.log.Error("make recovery codes failed", "err", err)
	}
	if _, ok := d.finishChallenge(w, r, ch, factorSecurityKey); !ok {
		return
	}
	d.showRecoveryCodes(w, r, nil, codes, "/ui/")
}

// removeKey deletes one of the signed-in user's security keys.
func (d *Dashboard) removeKey(w http.ResponseWriter, r *http.Request, s *signedIn) {
	// Removing takes the password, as removing the app takes a code: a
	// session left open cannot strip the account down to its password.
	if !d.passwordAgain(w, r, s, func(msg string) {
		d.renderAccount(w, r, s, http.StatusUnprocessableEntity, accountView{Error: msg + " The security key stays."})
	}) {
		return
	}
	id := r.PathValue("id")
	err := d.st.DeleteWebAuthnCredential(r.Context(), s.User.Username, id)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "You have no such security key.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.audit(r, s, audit.KindMFARemoved, "", map[string]any{"user": s.User.Username, "method": "webauthn"})
	if err := d.cfg.Users.PruneRecoveryCodes(r.Context(), s.User.Username); err != nil {
		d.internal(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/ui/account?done=keyremoved", http.StatusSeeOther)
}
