package serve

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/postern-dev/postern/server/alerts"
)

// AlertsConfig is where alerts go (docs/alerts.md). Secrets (the SMTP
// password, the webhook URLs, which carry their tokens) are read from
// files, so that the configuration can be world-readable, and are never
// logged.
type AlertsConfig struct {
	Email    *EmailAlertsConfig  `yaml:"email"`
	Webhooks []ChatWebhookConfig `yaml:"webhooks"`
	// BatchWindow is how long alerts gather before they are sent
	// together (alerts.DefaultBatchWindow when unset).
	BatchWindow time.Duration `yaml:"batch_window"`
	// MaxPerHour bounds the messages per channel and hour
	// (alerts.DefaultMaxPerHour when unset).
	MaxPerHour int `yaml:"max_per_hour"`
}

// EmailAlertsConfig sends alerts through an SMTP server with STARTTLS.
type EmailAlertsConfig struct {
	// SMTP is host:port of the submission server (port 587).
	SMTP         string   `yaml:"smtp"`
	Username     string   `yaml:"username"`
	PasswordFile string   `yaml:"password_file"`
	From         string   `yaml:"from"`
	To           []string `yaml:"to"`
}

// ChatWebhookConfig is a Slack or Teams incoming webhook.
type ChatWebhookConfig struct {
	// Kind is "slack" or "teams".
	Kind string `yaml:"kind"`
	// URLFile holds the webhook's URL.
	URLFile string `yaml:"url_file"`
}

func (a AlertsConfig) validate() error {
	var errs []error
	if e := a.Email; e != nil {
		if e.Username != "" && e.PasswordFile == "" {
			errs = append(errs, errors.New("alerts.email: username needs a password_file"))
		}
		ch := &alerts.Email{Addr: e.SMTP, Username: e.Username, Password: "-", From: e.From, To: e.To}
		if e.Username == "" {
			ch.Password = ""
		}
		if err := ch.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, w := range a.Webhooks {
		if w.Kind != string(alerts.Slack) && w.Kind != string(alerts.Teams) {
			errs = append(errs, fmt.Errorf("alerts.webhooks: kind %q: want slack or teams", w.Kind))
		}
		if w.URLFile == "" {
			errs = append(errs, errors.New("alerts.webhooks: url_file is required"))
		}
	}
	if a.BatchWindow < 0 || a.MaxPerHour < 0 {
		errs = append(errs, errors.New("alerts: batch_window and max_per_hour must not be negative"))
	}
	return errors.Join(errs...)
}

// Channels reads the secrets and returns the configured channels.
func (a AlertsConfig) Channels(now func() time.Time) ([]alerts.Channel, error) {
	var out []alerts.Channel
	if e := a.Email; e != nil {
		ch := &alerts.Email{Addr: e.SMTP, Username: e.Username, From: e.From, To: e.To, Now: now}
		if e.PasswordFile != "" {
			pw, err := readSecretFile(e.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("alerts.email: %w", err)
			}
			ch.Password = pw
		}
		if err := ch.Validate(); err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	for _, w := range a.Webhooks {
		u, err := readSecretFile(w.URLFile)
		if err != nil {
			return nil, fmt.Errorf("alerts.webhooks: %w", err)
		}
		ch := &alerts.ChatWebhook{Flavor: alerts.Flavor(w.Kind), URL: u}
		if err := ch.Validate(); err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, w.URLFile)
		}
		out = append(out, ch)
	}
	return out, nil
}

// readSecretFile reads a one-line secret; its content never appears in
// an error.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return s, nil
}

// startAlerts runs the dispatcher and the watchers until ctx ends, when
// any channel is configured (build read them).
func (s *server) startAlerts(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) {
	chans := s.alertChans
	if len(chans) == 0 {
		return
	}
	log = log.With("component", "alerts")
	d := alerts.New(alerts.Config{Channels: chans, BatchWindow: s.cfg.Alerts.BatchWindow, MaxPerHour: s.cfg.Alerts.MaxPerHour,
		Now: s.opt.Now, Logger: log})
	w := alerts.NewWatcher(alerts.WatchConfig{Store: s.st, Raise: d.Raise, Audit: s.lc.audit, Now: s.opt.Now, Logger: log,
		Cert: func() *x509.Certificate { return s.httpsCert.Current() }})
	names := make([]string, len(chans))
	for i, c := range chans {
		names[i] = c.Name()
	}
	log.Info("alerts on", "channels", strings.Join(names, ", "))
	wg.Go(func() { d.Run(ctx) })
	wg.Go(func() { w.Run(ctx) })
}
