package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/users"
)

// Single sign-on routes and limits.
const (
	// OIDCLoginPath starts a sign-in at the OpenID provider;
	// OIDCCallbackPath is where the provider sends the browser back (the
	// redirect URL registered at the provider ends with it).
	OIDCLoginPath    = "/ui/oidc/login"
	OIDCCallbackPath = "/ui/oidc/callback"
	// OIDCStateCookie carries a sign-in's state, nonce and PKCE verifier
	// from its start to the provider's answer. SameSite=Lax, so that the
	// provider's redirect back (a cross-site navigation) brings it.
	OIDCStateCookie = "__Host-postern_oidc"
	// oidcStateTTL is how long a started sign-in may take at the provider.
	oidcStateTTL = 10 * time.Minute
	// oidcTimeout bounds each exchange with the provider.
	oidcTimeout = 15 * time.Second
)

// Defaults of OIDCConfig.
const (
	DefaultUsernameClaim = "preferred_username"
	DefaultGroupsClaim   = "groups"
)

// LocalSignIn says where local accounts may sign in with their password.
type LocalSignIn string

// Where local password sign-in is accepted.
const (
	// LocalSignInAllowed accepts passwords from anywhere (the default).
	LocalSignInAllowed LocalSignIn = "allowed"
	// LocalSignInLoopback accepts passwords only from the server's own
	// loopback addresses: the break-glass way in when single sign-on is
	// in force (an SSH tunnel to the server, docs/sso.md).
	LocalSignInLoopback LocalSignIn = "loopback"
	// LocalSignInOff refuses every password.
	LocalSignInOff LocalSignIn = "off"
)

// ParseLocalSignIn returns the mode named s; empty means allowed.
func ParseLocalSignIn(s string) (LocalSignIn, error) {
	switch LocalSignIn(s) {
	case "", LocalSignInAllowed:
		return LocalSignInAllowed, nil
	case LocalSignInLoopback, LocalSignInOff:
		return LocalSignIn(s), nil
	}
	return "", fmt.Errorf("%q is not allowed, loopback or off", s)
}

// OIDCConfig configures sign-in through an OpenID Connect provider with
// the authorization code flow, PKCE, state and nonce.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL (https), as its discovery
	// document and ID tokens say it.
	Issuer string
	// ClientID and ClientSecret are the dashboard's registration at the
	// provider. The secret is never logged.
	ClientID, ClientSecret string
	// RedirectURL is the dashboard's callback as registered at the
	// provider: https://HOST[:PORT]/ui/oidc/callback.
	RedirectURL string
	// Scopes are asked besides openid (which is always asked).
	Scopes []string
	// UsernameClaim names the ID token claim that becomes the account's
	// name at its first sign-in; DefaultUsernameClaim when empty.
	UsernameClaim string
	// GroupsClaim names the ID token claim listing the user's groups;
	// DefaultGroupsClaim when empty.
	GroupsClaim string
	// Roles maps groups to roles; an identity none of whose groups is
	// mapped is refused.
	Roles users.RoleMapping
	// DisplayName names the provider on the sign-in button ("Sign in
	// with ..."); "single sign-on" when empty.
	DisplayName string
	// HTTPClient talks to the provider; a client with a timeout and the
	// system's roots when nil.
	HTTPClient *http.Client
}

// Validate says which field is wrong.
func (c OIDCConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(c.Issuer); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Errorf("issuer: %q is not an https URL", c.Issuer))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("client_id: must be set"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, errors.New("client secret: must be set"))
	}
	if u, err := url.Parse(c.RedirectURL); err != nil || u.Scheme != "https" || u.Host == "" || u.Path != OIDCCallbackPath || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("redirect_url: %q is not https://HOST[:PORT]%s", c.RedirectURL, OIDCCallbackPath))
	}
	if err := c.Roles.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("roles: %w", err))
	}
	return errors.Join(errs...)
}

// sso signs users in through the OpenID provider.
type sso struct {
	cfg OIDCConfig
	// key authenticates state cookies; derived from the client secret, so
	// that every replica sharing the registration accepts the others'.
	key []byte

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	// used holds the states already answered, until they would expire
	// anyway: a callback is accepted once.
	used map[string]time.Time
}

func newSSO(cfg OIDCConfig) (*sso, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = DefaultUsernameClaim
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = DefaultGroupsClaim
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = "single sign-on"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: oidcTimeout}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	m := hmac.New(sha256.New, []byte(cfg.ClientSecret))
	m.Write([]byte("postern oidc state cookie v1"))
	return &sso{cfg: cfg, key: m.Sum(nil), used: map[string]time.Time{}}, nil
}

// ctx carries the provider's HTTP client to go-oidc and oauth2.
func (s *sso) ctx(ctx context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(ctx, s.cfg.HTTPClient), oauth2.HTTPClient, s.cfg.HTTPClient)
}

// discover reads the provider's discovery document at the first sign-in
// (not at start, so that a provider down does not stop the server) and
// keeps it; a failure is tried again at the next sign-in.
func (s *sso) discover(ctx context.Context, now func() time.Time) (*oidc.Provider, *oidc.IDTokenVerifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, s.verifier, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx(ctx), oidcTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, s.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("discover %s: %w", s.cfg.Issuer, err)
	}
	// The verifier checks the signature with the provider's keys, the
	// issuer, the audience (our client ID) and the expiry by our clock.
	s.provider = p
	s.verifier = p.VerifierContext(s.ctx(context.Background()), &oidc.Config{ClientID: s.cfg.ClientID, Now: now})
	return s.provider, s.verifier, nil
}

func (s *sso) oauth2(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.cfg.RedirectURL, Scopes: s.cfg.Scopes}
}

// oidcState is a started sign-in, kept in the browser's state cookie.
type oidcState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Issued   int64  `json:"t"`
}

func (s *sso) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (s *sso) seal(st oidcState) string {
	b, _ := jsonenc.Marshal(st)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

var errBadState = errors.New("the sign-in's state is missing, altered, expired or used")

// open checks the cookie's seal, age and state, and that the state was
// not used up (use).
func (s *sso) open(cookie, state string, now time.Time) (oidcState, error) {
	p, sig, ok := strings.Cut(cookie, ".")
	if !ok || len(cookie) > 1024 {
		return oidcState{}, errBadState
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return oidcState{}, errBadState
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	var st oidcState
	if err != nil || json.Unmarshal(b, &st) != nil {
		return oidcState{}, errBadState
	}
	issued := time.Unix(st.Issued, 0)
	if now.Before(issued.Add(-time.Minute)) || !now.Before(issued.Add(oidcStateTTL)) {
		return oidcState{}, errBadState
	}
	if st.State == "" || !tokensEqual(st.State, state) {
		return oidcState{}, errBadState
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.used[st.State]; seen {
		return oidcState{}, errBadState
	}
	return st, nil
}

// use marks st's state used once the provider signed the browser in with
// it; false if another callback used it meanwhile. Only states that
// brought a verified ID token are kept: anyone can start a sign-in and
// send its callback a made-up code, and a state kept for each of those
// (each call sweeping them all) would let strangers grow the map and the
// sweep without bound.
func (s *sso) use(st oidcState, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, until := range s.used {
		if !now.Before(until) {
			delete(s.used, k)
		}
	}
	if _, seen := s.used[st.State]; seen {
		return false
	}
	s.used[st.State] = time.Unix(st.Issued, 0).Add(oidcStateTTL)
	return true
}

func setStateCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: OIDCStateCookie, Value: value, Path: "/", MaxAge: int(oidcStateTTL / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func clearStateCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: OIDCStateCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// localAllowed reports whether r may sign in with a local password.
func (d *Dashboard) localAllowed(r *http.Request) bool {
	switch d.cfg.LocalSignIn {
	case LocalSignInOff:
		return false
	case LocalSignInLoopback:
		a, err := netip.ParseAddr(sourceAddr(r))
		return err == nil && a.Unmap().IsLoopback()
	}
	return true
}

// signInOptions fills the sign-in page's choices: the provider's button
// and whether the password form is offered to r.
func (d *Dashboard) signInOptions(r *http.Request, v loginView) loginView {
	if d.sso != nil {
		v.SSO = d.sso.cfg.DisplayName
	}
	v.Local = d.localAllowed(r)
	return v
}

// localCredentialPath reports whether path manages a local account's own
// password or second factors, which an OIDC account does not have.
func localCredentialPath(path string) bool {
	return path == "/ui/password" || path == "/ui/account" || strings.HasPrefix(path, "/ui/account/")
}

// refuseLocal answers a password sign-in where passwords are turned off.
func (d *Dashboard) refuseLocal(w http.ResponseWriter, r *http.Request, name string) {
	name = truncate(name, 64)
	d.log.Warn("sign-in refused: local password sign-in is off here", "user", name, "remote", r.RemoteAddr)
	d.cfg.Audit.Record(r.Context(), audit.Entry{Actor: "anonymous", Kind: audit.KindSignInRefused,
		Details: map[string]any{"method": "password", "user": name, "source": sourceAddr(r), "reason": "local password sign-in is " + string(d.cfg.LocalSignIn)}})
	msg := "Password sign-in is turned off."
	if d.sso != nil {
		msg += " Sign in with " + d.sso.cfg.DisplayName + "."
	}
	d.render(w, r, nil, http.StatusForbidden, "login", "Sign in", d.signInOptions(r, loginView{Error: msg}))
}

// oidcLogin starts a sign-in: a fresh state, nonce and PKCE verifier go
// into the state cookie, and the browser to the provider.
func (d *Dashboard) oidcLogin(w http.ResponseWriter, r *http.Request) {
	p, _, err := d.sso.discover(r.Context(), d.now)
	if err != nil {
		d.log.Error("oidc discovery failed", "issuer", d.sso.cfg.Issuer, "err", err)
		d.oidcFail(w, r, http.StatusBadGateway, "The identity provider did not answer. Try again later.")
		return
	}
	state, err1 := randomToken()
	nonce, err2 := randomToken()
	if err := errors.Join(err1, err2); err != nil {
		d.log.Error("oidc state failed", "err", err)
		d.oidcFail(w, r, http.StatusInternalServerError, "Sign-in is unavailable; try again later.")
		return
	}
	verifier := oauth2.GenerateVerifier()
	setStateCookie(w, d.sso.seal(oidcState{State: state, Nonce: nonce, Verifier: verifier, Issued: d.now().Unix()}))
	http.Redirect(w, r, d.sso.oauth2(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
}

// oidcRefusal is a sign-in refused after the provider answered.
type oidcRefusal struct {
	status  int
	message string // shown to the user
	reason  string // audited and logged
}

// oidcCallback completes a sign-in: the state cookie must match the
// answer, the code is exchanged with the PKCE verifier, and the ID token
// must be signed by the provider for our client, unexpired, and carry
// the sign-in's nonce.
func (d *Dashboard) oidcCallback(w http.ResponseWriter, r *http.Request) {
	clearStateCookie(w)
	q := r.URL.Query()
	c, err := r.Cookie(OIDCStateCookie)
	if err != nil {
		c = &http.Cookie{}
	}
	st, err := d.sso.open(c.Value, q.Get("state"), d.now())
	if err != nil {
		// Nothing here is verified yet: logged, not audited, so that
		// strangers cannot fill the audit log.
		d.log.Warn("oidc sign-in refused", "reason", err.Error(), "remote", r.RemoteAddr)
		d.oidcFail(w, r, http.StatusBadRequest, "This sign-in was not started here, took longer than 10 minutes, or was already used. Sign in again.")
		return
	}
	if e := q.Get("error"); e != "" {
		d.log.Info("oidc sign-in refused by the provider", "error", truncate(e, 64), "description", truncate(q.Get("error_description"), 200))
		d.oidcFail(w, r, http.StatusUnauthorized, "The identity provider did not sign you in ("+truncate(e, 64)+").")
		return
	}
	id, refusal := d.oidcIdentity(r.Context(), q.Get("code"), st)
	if refusal != nil {
		d.refuseOIDC(w, r, id, *refusal)
		return
	}
	if !d.sso.use(st, d.now()) {
		d.log.Warn("oidc sign-in refused", "reason", errBadState.Error(), "remote", r.RemoteAddr)
		d.oidcFail(w, r, http.StatusBadRequest, "This sign-in was not started here, took longer than 10 minutes, or was already used. Sign in again.")
		return
	}
	u, created, err := d.cfg.Users.SignInOIDC(r.Context(), id)
	switch {
	case errors.Is(err, users.ErrNameTaken):
		d.refuseOIDC(w, r, id, oidcRefusal{http.StatusForbidden, "The user name " + id.Username +
			" belongs to another Postern account. Ask a Postern administrator.", "user name taken by another account"})
		return
	case errors.Is(err, users.ErrAccountLocked):
		d.refuseOIDC(w, r, id, oidcRefusal{http.StatusForbidden, "Your Postern account may not sign in now. Ask a Postern administrator.", "account locked"})
		return
	case errors.Is(err, users.ErrLastAdmin):
		// The provider's groups no longer make the last administrator
		// one: neither keep a role the provider withdrew nor lose the
		// last administrator.
		d.refuseOIDC(w, r, id, oidcRefusal{http.StatusForbidden, "Your groups at the identity provider no longer give you the admin role, and yours is " +
			"the last Postern administrator account. Another administrator must be named first.", "last administrator demoted by the provider's groups"})
		return
	case errors.Is(err, users.ErrInvalidUsername):
		d.refuseOIDC(w, r, id, oidcRefusal{http.StatusForbidden, "Your user name at the identity provider cannot name a Postern account. Ask a Postern administrator.", err.Error()})
		return
	case err != nil:
		d.log.Error("oidc sign-in failed", "err", err)
		d.oidcFail(w, r, http.StatusInternalServerError, "Sign-in is unavailable; try again later.")
		return
	}
	if err := d.startSession(w, r, u); err != nil {
		d.log.Error("create session failed", "err", err)
		d.oidcFail(w, r, http.StatusInternalServerError, "Sign-in is unavailable; try again later.")
		return
	}
	d.log.Info("signed in", "user", u.Username, "method", "oidc", "created", created)
	d.cfg.Audit.Record(r.Context(), audit.Entry{Actor: "user:" + u.Username, Kind: audit.KindSignedIn,
		Details: map[string]any{"user": u.Username, "method": "oidc", "issuer": id.Issuer, "role": u.Role, "source": sourceAddr(r)}})
	// The session cookie is SameSite=Strict, and a redirect chain the
	// provider started is cross-site: browsers would not send it on a
	// redirect. A page of our own moves on to the dashboard instead.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	continuePage.Execute(w, nil)
}

var continuePage = template.Must(template.New("continue").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/ui/"><title>Signed in · Postern</title></head>
<body><p>Signed in. <a href="/ui/">Continue to the dashboard</a>.</p></body></html>
`))

// oidcIdentity exchanges the code and verifies the ID token; the
// identity is filled as far as it was learnt, for the audit.
func (d *Dashboard) oidcIdentity(ctx context.Context, code string, st oidcState) (users.OIDCIdentity, *oidcRefusal) {
	id := users.OIDCIdentity{Issuer: d.sso.cfg.Issuer}
	p, verifier, err := d.sso.discover(ctx, d.now)
	if err != nil {
		return id, &oidcRefusal{http.StatusBadGateway, "The identity provider did not answer. Try again later.", err.Error()}
	}
	ctx, cancel := context.WithTimeout(d.sso.ctx(ctx), oidcTimeout)
	defer cancel()
	bad := func(reason string) (users.OIDCIdentity, *oidcRefusal) {
		return id, &oidcRefusal{http.StatusUnauthorized, "The identity provider's answer could not be accepted. Sign in again.", reason}
	}
	if code == "" {
		return bad("no authorization code")
	}
	tok, err := d.sso.oauth2(p).Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		// A replayed or stolen code, or a wrong verifier: the provider
		// refuses the exchange.
		return bad("code exchange refused: " + truncate(err.Error(), 300))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return bad("no ID token in the provider's answer")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return bad("ID token refused: " + truncate(err.Error(), 300))
	}
	id.Subject = idt.Subject
	if !tokensEqual(idt.Nonce, st.Nonce) {
		return bad("ID token refused: its nonce is not this sign-in's")
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil && idt.AccessTokenHash != "" {
		return bad("ID token refused: " + err.Error())
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return bad("ID token claims: " + err.Error())
	}
	if aud := idt.Audience; len(aud) > 1 {
		// Several audiences: the token must have been issued to us.
		if azp, _ := claims["azp"].(string); azp != d.sso.cfg.ClientID {
			return bad(fmt.Sprintf("ID token refused: audiences %q, authorized party %q", aud, azp))
		}
	}
	name, _ := claims[d.sso.cfg.UsernameClaim].(string)
	id.Username = strings.ToLower(strings.TrimSpace(name))
	id.FirstName, _ = claims["given_name"].(string)
	id.LastName, _ = claims["family_name"].(string)
	if id.Username == "" {
		return id, &oidcRefusal{http.StatusForbidden, "The identity provider did not give a user name (" + d.sso.cfg.UsernameClaim +
			"). Ask a Postern administrator.", "no " + d.sso.cfg.UsernameClaim + " claim"}
	}
	groups := stringsClaim(claims[d.sso.cfg.GroupsClaim])
	role, ok := d.sso.cfg.Roles.RoleFor(groups)
	if !ok {
		return id, &oidcRefusal{http.StatusForbidden, "You are signed in at the identity provider, but none of your groups gives access to Postern. " +
			"Ask a Postern administrator to map one of your groups to a role.", fmt.Sprintf("no group with a role (groups: %q)", truncateList(groups, 20))}
	}
	id.Role = role
	return id, nil
}

// stringsClaim reads a claim holding a list of strings or one string.
func stringsClaim(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func truncateList(l []string, n int) []string {
	if len(l) > n {
		return append(l[:n:n], "...")
	}
	return l
}

// refuseOIDC audits and answers a sign-in refused after the provider
// answered.
func (d *Dashboard) refuseOIDC(w http.ResponseWriter, r *http.Request, id users.OIDCIdentity, f oidcRefusal) {
	actor := "anonymous"
	if id.Username != "" {
		actor = "oidc:" + truncate(id.Username, 64)
	}
	d.log.Warn("oidc sign-in refused", "user", id.Username, "subject", id.Subject, "reason", f.reason, "remote", r.RemoteAddr)
	d.cfg.Audit.Record(r.Context(), audit.Entry{Actor: actor, Kind: audit.KindSignInRefused, Details: map[string]any{"method": "oidc",
		"issuer": id.Issuer, "subject": id.Subject, "user": id.Username, "reason": f.reason, "source": sourceAddr(r)}})
	d.oidcFail(w, r, f.status, f.message)
}

func (d *Dashboard) oidcFail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	d.render(w, r, nil, status, "login", "Sign in", d.signInOptions(r, loginView{Error: msg}))
}
