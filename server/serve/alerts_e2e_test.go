package serve

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServerAlertsItsExpiringCertificate runs the server with alerts to
// a Teams webhook on loopback and an HTTPS certificate ending in 20 days:
// the server's own watcher finds it and the dispatcher posts one Adaptive
// Card about it, through the configuration as an operator writes it. The
// server stops as soon as the card arrives: the send under way finishes
// instead of being cut off and sent again.
func TestServerAlertsItsExpiringCertificate(t *testing.T) {
	var mu sync.Mutex
	var cards []string
	got := make(chan struct{}, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct {
			Type        string
			Attachments []struct {
				ContentType string
				Content     json.RawMessage
			}
		}
		if json.Unmarshal(b, &m) != nil || m.Type != "message" || len(m.Attachments) != 1 {
			http.Error(w, "not a Teams message", http.StatusBadRequest)
			return
		}
		mu.Lock()
		cards = append(cards, string(m.Attachments[0].Content))
		mu.Unlock()
		select {
		case got <- struct{}{}:
		default:
		}
	}))
	defer hook.Close()

	now := time.Now() // wall clock: the server's clock, pinned to it below
	dept := newTestCA(t, "County IT Root", now)
	tlsDir := t.TempDir()
	certFile, keyFile := dept.issue(t, tlsDir, 300, now.Add(-time.Hour), now.Add(20*24*time.Hour))
	urlFile := filepath.Join(tlsDir, "teams-url")
	if err := os.WriteFile(urlFile, []byte(hook.URL+"/webhookb2/SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.QUICAddr, cfg.HTTPSAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	cfg.Alerts = AlertsConfig{Webhooks: []ChatWebhookConfig{{Kind: "teams", URLFile: urlFile}}, BatchWindow: 100 * time.Millisecond}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, cfg, Options{Init: true, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }, Ready: func(_, _ net.Addr) {}})
	}()
	select {
	case <-got:
	case err := <-errc:
		t.Fatalf("serve: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("no alert within a minute")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("serve: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(cards) != 1 || !strings.Contains(cards[0], "HTTPS certificate ends") || !strings.Contains(cards[0], "AdaptiveCard") {
		t.Errorf("cards %q, want one about the certificate", cards)
	}
}
