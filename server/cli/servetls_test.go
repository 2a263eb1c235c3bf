package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/serve"
)

func TestServeTLSCertificateFlags(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "server.yaml")
	if err := os.WriteFile(conf, []byte("data_dir: "+dir+"\ntls_cert: /etc/ssl/postern/file.pem\ntls_key: /etc/ssl/postern/file.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name              string
		args              []string
		wantCert, wantKey string
	}{
		{"by default the device CA's certificate is served", []string{"--data", dir}, "", ""},
		{"the flags name the pair", []string{"--data", dir, "--tls-cert", "/c.pem", "--tls-key", "/c.key"}, "/c.pem", "/c.key"},
		{"the config file names the pair", []string{"--config", conf}, "/etc/ssl/postern/file.pem", "/etc/ssl/postern/file.key"},
		{"flags override the config file", []string{"--config", conf, "--tls-cert", "/c.pem", "--tls-key", "/c.key"}, "/c.pem", "/c.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Factory{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}, Now: clock.Now, Getenv: func(string) string { return "" }}
			var got serve.Config
			cmd := NewCmdServe(f, func(_ context.Context, o *ServeOptions) error { got = o.Config; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got.TLSCert != tt.wantCert || got.TLSKey != tt.wantKey {
				t.Errorf("tls_cert %q, tls_key %q; want %q, %q", got.TLSCert, got.TLSKey, tt.wantCert, tt.wantKey)
			}
		})
	}
	t.Run("a certificate without its key is a usage error", func(t *testing.T) {
		_, _, code := run(t, "serve", "--data", dir, "--tls-cert", "/c.pem")
		if code == 0 {
			t.Errorf("exit %d, want a refusal", code)
		}
	})
}
