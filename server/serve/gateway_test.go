package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWebhookAndMetricsConfig(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "hook.secret")
	os.WriteFile(secret, []byte(strings.Repeat("k", 32)+"\n"), 0o600)
	short := filepath.Join(t.TempDir(), "short.secret")
	os.WriteFile(short, []byte("tiny"), 0o600)
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"an https webhook with a secret file is valid", func(c *Config) { c.Webhooks = []WebhookConfig{{URL: "https://soc.example/hook", SecretFile: secret}} }, ""},
		{"plain http to loopback is valid", func(c *Config) { c.Webhooks = []WebhookConfig{{URL: "http://127.0.0.1:9000/hook", SecretFile: secret}} }, ""},
		{"plain http elsewhere is refused", func(c *Config) { c.Webhooks = []WebhookConfig{{URL: "http://soc.example/hook", SecretFile: secret}} }, "must use https"},
		{"a webhook without a secret is refused", func(c *Config) { c.Webhooks = []WebhookConfig{{URL: "https://soc.example/hook"}} }, "secret_file"},
		{"a relative webhook URL is refused", func(c *Config) { c.Webhooks = []WebhookConfig{{URL: "/hook", SecretFile: secret}} }, "absolute"},
		{"a metrics address without a port is refused", func(c *Config) { c.MetricsAddr = "localhost" }, "metrics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.DataDir = "/tmp/x"
			tt.edit(&c)
			err := c.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	t.Run("a secret shorter than 32 bytes is refused at load", func(t *testing.T) {
		if _, err := loadWebhooks([]WebhookConfig{{URL: "https://x/", SecretFile: short}}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("a secret is read without its trailing newline", func(t *testing.T) {
		hooks, err := loadWebhooks([]WebhookConfig{{URL: "https://x/", SecretFile: secret}})
		if err != nil || len(hooks) != 1 || string(hooks[0].Secret) != strings.Repeat("k", 32) {
			t.Errorf("hooks %+v, err %v", hooks, err)
		}
	})
}
