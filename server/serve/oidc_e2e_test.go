package serve

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/internal/oidctest"
)

// TestServeWithSingleSignOn runs the whole server with an oidc: section:
// the secret comes from its file, the provider is trusted through
// ca_file alone, the sign-in page offers the provider, a sign-in starts
// at the provider's authorization endpoint, and passwords are refused.
func TestServeWithSingleSignOn(t *testing.T) {
	const redirect = "https://postern.county.example:8443/ui/oidc/callback"
	t.Setenv(EnvOIDCClientSecret, "")
	idp := oidctest.Start(t, oidctest.Config{ClientID: "postern", ClientSecret: "s3cret", RedirectURIs: []string{redirect}})
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "oidc-secret")
	if err := os.WriteFile(secretFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.QUICAddr, cfg.HTTPSAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.LocalSignIn = "off"
	cfg.OIDC = &OIDCConfig{Issuer: idp.Issuer, ClientID: "postern", ClientSecretFile: secretFile, RedirectURL: redirect,
		Scopes: []string{"profile", "groups"}, DisplayName: "County SSO", CAFile: idp.WriteCA(t, dir),
		Roles: map[string][]string{"admin": {"postern-admins"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, cfg, Options{Init: true, Logger: slog.New(slog.DiscardHandler), Ready: func(_, https net.Addr) { addrs <- https }})
	}()
	var base string
	select {
	case a := <-addrs:
		base = "https://" + a.String()
	case err := <-errc:
		t.Fatalf("serve: %v", err)
	}
	client := &http.Client{Timeout: 10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // the device CA's certificate; not under test
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if _, body := get("/ui/login"); !strings.Contains(body, "Sign in with County SSO") || strings.Contains(body, `name="password"`) {
		t.Errorf("the sign-in page does not offer the provider alone:\n%s", body)
	}
	resp, _ := get("/ui/oidc/login")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, idp.Issuer+"/authorize?") ||
		!strings.Contains(loc, "redirect_uri="+url.QueryEscape(redirect)) {
		t.Errorf("starting a sign-in answered %d %s, want a redirect to the provider", resp.StatusCode, loc)
	}
	pw, err := client.PostForm(base+"/ui/login", url.Values{"username": {"root"}, "password": {"Harbor-Lights-42"}})
	if err != nil {
		t.Fatal(err)
	}
	pw.Body.Close()
	if pw.StatusCode != http.StatusForbidden {
		t.Errorf("a password sign-in answered %d, want 403", pw.StatusCode)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("serve: %v", err)
	}
}
