package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/postern-dev/postern/internal/clock"
)

func TestServeLocalSignInFlag(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "server.yaml")
	yaml := "data_dir: " + dir + "\nlocal_sign_in: off\noidc:\n  issuer: https://idp.example\n  client_id: postern\n" +
		"  client_secret_file: /etc/postern/oidc-secret\n  redirect_url: https://postern.example:8443/ui/oidc/callback\n  roles: {admin: [admins]}\n"
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"the config file turns passwords off", []string{"--config", conf}, "off"},
		{"the flag lets them in from loopback for break-glass", []string{"--config", conf, "--local-sign-in", "loopback"}, "loopback"},
		{"by default nothing is set (allowed)", []string{"--data", dir}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &Factory{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}, Now: clock.Now, Getenv: func(string) string { return "" }}
			var got string
			cmd := NewCmdServe(f, func(_ context.Context, o *ServeOptions) error { got = o.Config.LocalSignIn; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("local_sign_in = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("passwords off without a provider are a usage error", func(t *testing.T) {
		if _, _, code := run(t, "serve", "--data", dir, "--local-sign-in", "off"); code == 0 {
			t.Error("accepted")
		}
	})
}
