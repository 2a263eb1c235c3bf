package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/metrics"
)

// WebhookConfig is one webhook receiver in the configuration file.
type WebhookConfig struct {
	// URL receives signed POSTs of every decision-change event. It must be
	// https, except on a loopback address.
	URL string `yaml:"url"`
	// SecretFile holds the HMAC-SHA256 key (at least 32 bytes; surrounding
	// whitespace is ignored). A file, not the config, so that the config
	// can be world-readable.
	SecretFile string `yaml:"secret_file"`
}

// minWebhookSecret is the shortest accepted HMAC key: 256 bits.
const minWebhookSecret = 32

func (w WebhookConfig) validate() error {
	u, err := url.Parse(w.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("webhooks: %q is not an absolute URL", w.URL)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
		return fmt.Errorf("webhooks: %q must use https (http only to a loopback address)", redact(u))
	}
	if w.SecretFile == "" {
		return fmt.Errorf("webhooks: %q needs a secret_file", redact(u))
	}
	return nil
}

func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery = nil, ""
	return c.String()
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// loadWebhooks reads every receiver's secret.
func loadWebhooks(cfgs []WebhookConfig) ([]events.Webhook, error) {
	var out []events.Webhook
	for _, c := range cfgs {
		b, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("read webhook secret: %w", err)
		}
		secret := []byte(strings.TrimSpace(string(b)))
		if len(secret) < minWebhookSecret {
			return nil, fmt.Errorf("webhook secret %s: shorter than %d bytes", c.SecretFile, minWebhookSecret)
		}
		out = append(out, events.Webhook{URL: c.URL, Secret: secret})
	}
	return out, nil
}

// serveMetrics serves /metrics without a key on addr (meant for a loopback
// or management address scraped by Prometheus) until ctx ends.
func serveMetrics(ctx context.Context, addr string, m *metrics.Metrics, log *slog.Logger) (net.Addr, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	stop := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-done
	}
	return ln.Addr(), stop, nil
}
