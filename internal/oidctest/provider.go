package oidctest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/postern-dev/postern/internal/jsonenc"
)

// User is an account at the provider.
type User struct {
	Subject, Username, Password string
	GivenName, FamilyName       string
	Groups                      []string
}

// Config is the provider's one client and its users.
type Config struct {
	ClientID, ClientSecret string
	// RedirectURIs are the client's registered callbacks (exact match).
	RedirectURIs []string
	// IDTokenLifetime is how long ID tokens last; 5 minutes when zero.
	IDTokenLifetime time.Duration
	Users           []User
}

// Provider is a running OpenID provider: zitadel's op package over the
// in-memory storage of this package, on a loopback HTTPS server, with a
// login page of its own at /login.
type Provider struct {
	// Issuer is the provider's issuer URL (its server's https URL).
	Issuer string
	srv    *httptest.Server
	st     *storage
}

// Start runs a provider until the test ends.
func Start(t testing.TB, cfg Config) *Provider {
	t.Helper()
	if cfg.IDTokenLifetime == 0 {
		cfg.IDTokenLifetime = 5 * time.Minute
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	st := &storage{cfg: cfg, key: key, requests: map[string]*authRequest{}, codes: map[string]string{}, users: map[string]User{}}
	for _, u := range cfg.Users {
		st.users[u.Username] = u
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	prov, err := op.NewOpenIDProvider(srv.URL, &op.Config{CryptoKey: cryptoKey, CodeMethodS256: true,
		SupportedScopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, "groups"}}, st)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{Issuer: srv.URL, srv: srv, st: st}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.login)
	mux.Handle("/oauth/token", p.forging(prov))
	mux.Handle("/", prov)
	srv.Config.Handler = mux
	return p
}

// HTTPClient trusts the provider's certificate (httptest's, which every
// httptest TLS server in the process shares).
func (p *Provider) HTTPClient() *http.Client { return p.srv.Client() }

// WriteCA writes the provider's certificate as PEM into dir and returns
// the file's path, for a server configured with the provider's CA.
func (p *Provider) WriteCA(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "idp-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// SetGroups replaces a user's groups (a change at the provider).
func (p *Provider) SetGroups(username string, groups ...string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	u := p.st.users[username]
	u.Groups = groups
	p.st.users[username] = u
}

// ForgeAudience makes the token endpoint answer with ID tokens issued,
// and signed by the provider's key, for these audiences instead of the
// client (nil restores it): a token meant for another application,
// substituted into the client's answer.
func (p *Provider) ForgeAudience(aud ...string) {
	p.st.mu.Lock()
	p.st.audience = aud
	p.st.mu.Unlock()
}

// forging re-issues the token endpoint's ID token for the forged
// audience, when one is set.
func (p *Provider) forging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.st.mu.Lock()
		aud := p.st.audience
		p.st.mu.Unlock()
		if aud == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			http.Error(w, "forging: the token endpoint failed: "+rec.Body.String(), http.StatusInternalServerError)
			return
		}
		raw, _ := body["id_token"].(string)
		forged, err := p.st.reissue(raw, aud)
		if err != nil {
			http.Error(w, "forging: "+err.Error(), http.StatusInternalServerError)
			return
		}
		body["id_token"] = forged
		w.Header().Set("Content-Type", "application/json")
		jsonenc.NewEncoder(w).Encode(body)
	})
}

// reissue signs the ID token's claims again with the audience and
// authorized party replaced.
func (s *storage) reissue(raw string, aud []string) (string, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", err
	}
	var claims map[string]any
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return "", err
	}
	claims["aud"], claims["azp"], claims["client_id"] = aud, aud[0], aud[0]
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "test-key"))
	if err != nil {
		return "", err
	}
	out, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return out.CompactSerialize()
}

// ForgeNonce makes the next ID tokens carry this nonce instead of the
// one the client sent ("" restores it), as a token from another sign-in.
func (p *Provider) ForgeNonce(nonce string) {
	p.st.mu.Lock()
	p.st.nonce = nonce
	p.st.mu.Unlock()
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><h1>Test identity provider</h1>
{{with .Error}}<p id="idp-error">{{.}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label>User name <input id="idp-username" name="username"></label>
<label>Password <input id="idp-password" name="password" type="password"></label>
<button id="idp-submit" type="submit">Sign in</button>
</form></body></html>
`))

func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	loginTemplate.Execute(w, map[string]string{"ID": r.URL.Query().Get("authRequestID")})
}

// login checks the user's password and completes the auth request, then
// sends the browser to the provider's callback, which issues the code.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("id")
	if err := p.st.complete(id, r.PostForm.Get("username"), r.PostForm.Get("password")); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		loginTemplate.Execute(w, map[string]string{"ID": id, "Error": err.Error()})
		return
	}
	http.Redirect(w, r, p.Issuer+"/authorize/callback?id="+id, http.StatusFound)
}

// storage is an in-memory op.Storage for one client: auth requests,
// their codes (deleted once exchanged, so a code works once), and one
// signing key.
type storage struct {
	cfg Config
	key *ecdsa.PrivateKey

	mu       sync.Mutex
	requests map[string]*authRequest
	codes    map[string]string // code -> request ID
	users    map[string]User   // by username
	audience []string
	nonce    string
}

var _ op.Storage = (*storage)(nil)
var _ op.CanSetUserinfoFromRequest = (*storage)(nil)

var errNotFound = errors.New("not found")

func (s *storage) complete(id, username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return errors.New("unknown sign-in")
	}
	u, ok := s.users[username]
	if !ok || u.Password != password {
		return errors.New("wrong user name or password")
	}
	req.subject, req.done = u.Subject, true
	req.authTime = time.Now() // wall clock: the provider library dates its tokens by the wall clock
	return nil
}

func (s *storage) userBySubject(sub string) (User, bool) {
	for _, u := range s.users {
		if u.Subject == sub {
			return u, true
		}
	}
	return User{}, false
}

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := &authRequest{id: rand.Text(), clientID: r.ClientID, redirectURI: r.RedirectURI, state: r.State, nonce: r.Nonce,
		scopes: r.Scopes, responseType: r.ResponseType, responseMode: r.ResponseMode, s: s}
	if r.CodeChallenge != "" {
		req.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.requests[req.id] = req
	return req, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		return r, nil
	}
	return nil, errNotFound
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code unknown, expired or already used")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return rand.Text(), time.Now().Add(5 * time.Minute), nil // wall clock: as the provider library's token dates
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("refresh tokens are not offered")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error { return nil }

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return signingKey{s.key}, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) { return []op.Key{publicKey{s.key}}, nil }

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.cfg.ClientID {
		return nil, errNotFound
	}
	return client{s.cfg}, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.cfg.ClientID || secret != s.cfg.ClientSecret {
		return errors.New("wrong client credentials")
	}
	return nil
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest puts the user's names and groups in the ID token.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, r op.IDTokenRequest, _ []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.userBySubject(r.GetSubject())
	if !ok {
		return errNotFound
	}
	info.Subject = u.Subject
	info.PreferredUsername, info.GivenName, info.FamilyName = u.Username, u.GivenName, u.FamilyName
	if u.Groups != nil {
		info.AppendClaims("groups", slices.Clone(u.Groups))
	}
	return nil
}

func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return nil
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

func (s *storage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}

func (s *storage) Health(context.Context) error { return nil }

type authRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes                                  []string
	responseType                            oidc.ResponseType
	responseMode                            oidc.ResponseMode
	challenge                               *oidc.CodeChallenge
	subject                                 string
	done                                    bool
	authTime                                time.Time
	s                                       *storage
}

func (r *authRequest) GetID() string                         { return r.id }
func (r *authRequest) GetACR() string                        { return "" }
func (r *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (r *authRequest) GetAuthTime() time.Time                { return r.authTime }
func (r *authRequest) GetClientID() string                   { return r.clientID }
func (r *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return r.challenge }
func (r *authRequest) GetRedirectURI() string                { return r.redirectURI }
func (r *authRequest) GetResponseType() oidc.ResponseType    { return r.responseType }
func (r *authRequest) GetResponseMode() oidc.ResponseMode    { return r.responseMode }
func (r *authRequest) GetScopes() []string                   { return r.scopes }
func (r *authRequest) GetState() string                      { return r.state }
func (r *authRequest) GetSubject() string                    { return r.subject }
func (r *authRequest) Done() bool                            { return r.done }

func (r *authRequest) GetAudience() []string { return []string{r.clientID} }

func (r *authRequest) GetNonce() string {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.s.nonce != "" {
		return r.s.nonce
	}
	return r.nonce
}

type client struct{ cfg Config }

func (c client) GetID() string                       { return c.cfg.ClientID }
func (c client) RedirectURIs() []string              { return c.cfg.RedirectURIs }
func (c client) PostLogoutRedirectURIs() []string    { return nil }
func (c client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c client) GrantTypes() []oidc.GrantType         { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c client) LoginURL(id string) string            { return "/login?authRequestID=" + id }
func (c client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c client) IDTokenLifetime() time.Duration       { return c.cfg.IDTokenLifetime }
func (c client) DevMode() bool                        { return false }
func (c client) IsScopeAllowed(string) bool           { return true }
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

type signingKey struct{ k *ecdsa.PrivateKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k signingKey) Key() any                                    { return k.k }
func (k signingKey) ID() string                                  { return "test-key" }

type publicKey struct{ k *ecdsa.PrivateKey }

func (k publicKey) ID() string                         { return "test-key" }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.k.PublicKey }
