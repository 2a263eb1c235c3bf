package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func goodOIDC() *OIDCConfig {
	return &OIDCConfig{Issuer: "https://login.county.example/realms/staff", ClientID: "postern",
		ClientSecretFile: "/etc/postern/oidc-secret", RedirectURL: "https://postern.county.example:8443/ui/oidc/callback",
		Roles: map[string][]string{"admin": {"postern-admins"}, "viewer": {"staff"}}}
}

func TestValidateSignIn(t *testing.T) {
	with := func(f func(c *Config)) Config {
		c := DefaultConfig()
		c.DataDir = "/tmp/x"
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"a provider with passwords off is accepted", with(func(c *Config) { c.OIDC, c.LocalSignIn = goodOIDC(), "off" }), ""},
		{"a provider with passwords from loopback is accepted", with(func(c *Config) { c.OIDC, c.LocalSignIn = goodOIDC(), "loopback" }), ""},
		{"passwords from loopback only, without a provider, are accepted", with(func(c *Config) { c.LocalSignIn = "loopback" }), ""},
		{"passwords off without a provider are refused", with(func(c *Config) { c.LocalSignIn = "off" }), "no way to sign in"},
		{"an unknown local sign-in mode is refused", with(func(c *Config) { c.LocalSignIn = "sometimes" }), "local_sign_in"},
		{"a plain-HTTP issuer is refused", with(func(c *Config) { c.OIDC = goodOIDC(); c.OIDC.Issuer = "http://login.county.example" }), "issuer"},
		{"a redirect URL off the callback path is refused", with(func(c *Config) { c.OIDC = goodOIDC(); c.OIDC.RedirectURL = "https://postern.county.example/" }), "redirect_url"},
		{"an unknown role is refused", with(func(c *Config) { c.OIDC = goodOIDC(); c.OIDC.Roles = map[string][]string{"root": {"x"}} }), "unknown role"},
		{"no client ID is refused", with(func(c *Config) { c.OIDC = goodOIDC(); c.OIDC.ClientID = "" }), "client_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want mention of %q", err, tt.wantErr)
			}
		})
	}
}

func TestOIDCClientSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("the file's secret is read without its newline", func(t *testing.T) {
		t.Setenv(EnvOIDCClientSecret, "")
		c := goodOIDC()
		c.ClientSecretFile = file
		d, err := c.dashboard()
		if err != nil || d.ClientSecret != "from-the-file" {
			t.Fatalf("dashboard() = %v, secret %q", err, d.ClientSecret)
		}
	})
	t.Run("the environment wins over the file", func(t *testing.T) {
		t.Setenv(EnvOIDCClientSecret, "from-the-environment")
		c := goodOIDC()
		c.ClientSecretFile = file
		if d, err := c.dashboard(); err != nil || d.ClientSecret != "from-the-environment" {
			t.Fatalf("dashboard() = %v", err)
		}
	})
	for name, path := range map[string]string{"a missing file": filepath.Join(dir, "nope"), "no file": ""} {
		t.Run(name+" without the environment is refused", func(t *testing.T) {
			t.Setenv(EnvOIDCClientSecret, "")
			c := goodOIDC()
			c.ClientSecretFile = path
			if _, err := c.dashboard(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("a CA file without a certificate is refused", func(t *testing.T) {
		t.Setenv(EnvOIDCClientSecret, "s")
		c := goodOIDC()
		c.CAFile = file
		if _, err := c.dashboard(); err == nil || !strings.Contains(err.Error(), "ca_file") {
			t.Fatalf("dashboard() = %v", err)
		}
	})
}
