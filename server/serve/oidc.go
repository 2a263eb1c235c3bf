package serve

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/dashboard"
	"github.com/postern-dev/postern/server/users"
)

// EnvOIDCClientSecret names the environment variable that may hold the
// OpenID client secret; it takes precedence over oidc.client_secret_file.
const EnvOIDCClientSecret = "POSTERN_OIDC_CLIENT_SECRET"

// maxSecretFileSize bounds a client_secret_file and a ca_file.
const maxSecretFileSize = 64 << 10

// OIDCConfig is the dashboard's single sign-on (docs/sso.md). The client
// secret is read from ClientSecretFile or EnvOIDCClientSecret, never
// from this file, and never logged.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL (https).
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecretFile holds the client secret, readable only by the
	// server's account.
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURL is https://HOST[:PORT]/ui/oidc/callback, as registered
	// at the provider.
	RedirectURL string `yaml:"redirect_url"`
	// Scopes are asked besides openid, e.g. profile and groups.
	Scopes []string `yaml:"scopes"`
	// UsernameClaim (default preferred_username) names new accounts;
	// GroupsClaim (default groups) lists the user's groups.
	UsernameClaim string `yaml:"username_claim"`
	GroupsClaim   string `yaml:"groups_claim"`
	// Roles gives, for each role (viewer, analyst, approver, admin), the
	// groups that grant it; the most trusted role wins and a user with
	// none of the groups is refused.
	Roles map[string][]string `yaml:"roles"`
	// DisplayName names the provider on the sign-in button.
	DisplayName string `yaml:"display_name"`
	// CAFile is a PEM file of the CAs that issued the provider's HTTPS
	// certificate, when the system's roots do not hold them.
	CAFile string `yaml:"ca_file"`
}

func (c *OIDCConfig) roles() users.RoleMapping {
	m := users.RoleMapping{}
	for r, groups := range c.Roles {
		m[users.Role(r)] = groups
	}
	return m
}

// validate checks what can be checked without reading files: every
// field the provider needs and the role mapping.
func (c *OIDCConfig) validate() error {
	// The secret is checked when read (Dashboard); a stand-in here lets
	// the rest be checked by the dashboard's own rules.
	d := dashboard.OIDCConfig{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: "set", RedirectURL: c.RedirectURL, Roles: c.roles()}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("oidc: %w", err)
	}
	return nil
}

// dashboard reads the secret (the environment first, then the file) and
// the CA file into the dashboard's configuration.
func (c *OIDCConfig) dashboard() (*dashboard.OIDCConfig, error) {
	secret := os.Getenv(EnvOIDCClientSecret)
	if secret == "" {
		if c.ClientSecretFile == "" {
			return nil, fmt.Errorf("oidc: set client_secret_file or %s", EnvOIDCClientSecret)
		}
		b, err := readSmallFile(c.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("oidc: client_secret_file: %w", err)
		}
		if secret = strings.TrimSpace(string(b)); secret == "" {
			return nil, fmt.Errorf("oidc: client_secret_file %s is empty", c.ClientSecretFile)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.CAFile != "" {
		b, err := readSmallFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("oidc: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("oidc: ca_file %s: no PEM certificate", c.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &dashboard.OIDCConfig{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: secret, RedirectURL: c.RedirectURL,
		Scopes: c.Scopes, UsernameClaim: c.UsernameClaim, GroupsClaim: c.GroupsClaim, Roles: c.roles(), DisplayName: c.DisplayName,
		HTTPClient: &http.Client{Transport: tr, Timeout: 15 * time.Second}}, nil
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFileSize {
		return nil, errors.New(path + ": larger than 64 KiB")
	}
	return b, nil
}

// validateSignIn checks the sign-in settings: the provider's, and that
// passwords are not turned off without a provider to sign in with
// (loopback alone is allowed: a console reached only through an SSH
// tunnel).
func (c Config) validateSignIn() error {
	var errs []error
	mode, err := dashboard.ParseLocalSignIn(c.LocalSignIn)
	if err != nil {
		errs = append(errs, fmt.Errorf("local_sign_in: %w", err))
	}
	if c.OIDC != nil {
		errs = append(errs, c.OIDC.validate())
	} else if mode == dashboard.LocalSignInOff {
		errs = append(errs, errors.New("local_sign_in: off without oidc would leave no way to sign in"))
	}
	return errors.Join(errs...)
}
