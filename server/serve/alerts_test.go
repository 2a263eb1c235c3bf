package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAlertsConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pw := write("smtp-password", "s3cret-pass\n")
	slack := write("slack-url", "https://hooks.slack.com/services/T000/B000/TOKENVALUE\n")
	plain := write("plain-url", "http://hooks.example/x\n")
	cfgFile := write("server.yaml", `data_dir: /var/lib/postern-server
alerts:
  email:
    smtp: smtp.county.example:587
    username: postern
    password_file: `+pw+`
    from: postern@county.example
    to: [soc@county.example]
  webhooks:
    - kind: slack
      url_file: `+slack+`
  batch_window: 2m
  max_per_hour: 6
`)
	t.Run("the documented shape loads, validates and reads its secrets", func(t *testing.T) {
		c, err := LoadConfigFile(cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		chans, err := c.Alerts.Channels(nil)
		if err != nil || len(chans) != 2 {
			t.Fatalf("channels = %d, %v", len(chans), err)
		}
		for _, ch := range chans {
			if strings.Contains(ch.Name(), "TOKENVALUE") || strings.Contains(ch.Name(), "s3cret") {
				t.Errorf("channel name %q shows a secret", ch.Name())
			}
		}
	})
	tests := []struct {
		name    string
		edit    func(*AlertsConfig)
		wantErr string
	}{
		{"a username without a password file is refused", func(a *AlertsConfig) { a.Email.PasswordFile = "" }, "password_file"},
		{"a bad recipient is refused", func(a *AlertsConfig) { a.Email.To = []string{"not an address"} }, "to"},
		{"an smtp address without a port is refused", func(a *AlertsConfig) { a.Email.SMTP = "smtp.county.example" }, "host:port"},
		{"an unknown webhook kind is refused", func(a *AlertsConfig) { a.Webhooks[0].Kind = "discord" }, "slack or teams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfigFile(cfgFile)
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(&c.Alerts)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	t.Run("a plain-http webhook URL is refused at start without showing it", func(t *testing.T) {
		a := AlertsConfig{Webhooks: []ChatWebhookConfig{{Kind: "teams", URLFile: plain}}}
		_, err := a.Channels(nil)
		if err == nil || !strings.Contains(err.Error(), "https") || strings.Contains(err.Error(), "hooks.example/x") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("an unknown field under alerts is refused", func(t *testing.T) {
		bad := write("bad.yaml", "data_dir: /x\nalerts:\n  emial: {}\n")
		if _, err := LoadConfigFile(bad); err == nil {
			t.Error("a misspelt field loaded")
		}
	})
}
