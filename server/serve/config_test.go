package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/policy"
)

func TestValidate(t *testing.T) {
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
		{"the defaults are valid", with(func(*Config) {}), ""},
		{"enrollment approve manual is accepted", with(func(c *Config) { c.Enrollment.Approve = "manual" }), ""},
		{"enrollment approve other than manual or auto is refused", with(func(c *Config) { c.Enrollment.Approve = "yes" }), "enrollment.approve"},
		{"a missing data dir is an error", with(func(c *Config) { c.DataDir = "" }), "data_dir"},
		{"a QUIC address without a port is an error", with(func(c *Config) { c.QUICAddr = "localhost" }), "quic"},
		{"a bad proxy CIDR is an error", with(func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }), "trusted_proxies"},
		{"a bare proxy address is accepted", with(func(c *Config) { c.TrustedProxies = []string{"10.0.0.1", "fd00::/8"} }), ""},
		{"a short history retention is an error", with(func(c *Config) { c.HistoryRetention = time.Hour }), "history_retention"},
		{"an audit retention under a year is refused", with(func(c *Config) { c.AuditRetention = 364 * 24 * time.Hour }), "audit_retention"},
		{"an audit retention of a year is accepted", with(func(c *Config) { c.AuditRetention = 365 * 24 * time.Hour }), ""},
		{"a mass-failure share above one is an error", with(func(c *Config) { c.MassFailureShare = 1.5 }), "mass_failure_share"},
		{"a gateway origin with a port is accepted", with(func(c *Config) { c.GatewayURL = "https://ehr.dmh.example:8443" }), ""},
		{"a plain-http gateway URL is refused", with(func(c *Config) { c.GatewayURL = "http://ehr.dmh.example" }), "gateway_url"},
		{"a gateway URL with a path is refused", with(func(c *Config) { c.GatewayURL = "https://ehr.dmh.example/login" }), "gateway_url"},
		{"a gateway URL with a wildcard host is refused", with(func(c *Config) { c.GatewayURL = "https://*.dmh.example" }), "gateway_url"},
		{"a gateway URL with a user is refused", with(func(c *Config) { c.GatewayURL = "https://u@ehr.dmh.example" }), "gateway_url"},
		{"a TLS certificate without its key is refused", with(func(c *Config) { c.TLSCert = "/etc/ssl/console.pem" }), "tls_cert and tls_key"},
		{"a TLS key without its certificate is refused", with(func(c *Config) { c.TLSKey = "/etc/ssl/console.key" }), "tls_cert and tls_key"},
		{"a TLS certificate with its key is accepted", with(func(c *Config) { c.TLSCert, c.TLSKey = "/etc/ssl/console.pem", "/etc/ssl/console.key" }), ""},
		{"a lockout of ten minutes is accepted", with(func(c *Config) { c.LockoutDuration = 10 * time.Minute }), ""},
		{"a negative lockout is refused", with(func(c *Config) { c.LockoutDuration = -time.Minute }), "lockout_duration"},
		{"a lockout over a day is refused", with(func(c *Config) { c.LockoutDuration = 25 * time.Hour }), "lockout_duration"},
		{"a mass-failure share of zero is an error", with(func(c *Config) { c.MassFailureShare = 0 }), "mass_failure_share"},
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

func TestLoadConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("fields override the defaults", func(t *testing.T) {
		cfg, err := LoadConfigFile(write("ok.yaml", "data_dir: /srv/postern\nquic: 127.0.0.1:4433\ntrusted_proxies: [10.0.0.0/8]\nhistory_retention: 720h\n"))
		if err != nil {
			t.Fatal(err)
		}
		want := Config{DataDir: "/srv/postern", QUICAddr: "127.0.0.1:4433", HTTPSAddr: DefaultHTTPSAddr, TrustedProxies: []string{"10.0.0.0/8"}, HistoryRetention: 720 * time.Hour,
			AuditRetention: audit.DefaultRetention, MassFailureShare: policy.DefaultMaxDenyShare}
		if diff := cmp.Diff(want, cfg); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("an unknown field is an error", func(t *testing.T) {
		if _, err := LoadConfigFile(write("bad.yaml", "data_dri: /x\n")); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("an empty file is the defaults", func(t *testing.T) {
		cfg, err := LoadConfigFile(write("empty.yaml", ""))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(DefaultConfig(), cfg); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
