package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// certExpiryWarning is how long before its end the HTTPS certificate is
// reported as expiring, at every check.
const certExpiryWarning = 30 * 24 * time.Hour

// certCheckEvery is how often the HTTPS certificate's expiry is checked
// besides at start and at each reload.
const certCheckEvery = 24 * time.Hour

// httpsCert is the certificate the HTTPS port serves: the operator's
// (tls_cert/tls_key, typically the department's, which browsers trust),
// read again on SIGHUP, or else the server certificate of Postern's own
// device CA. Devices never see it: they use the QUIC port, which keeps
// the device CA's certificate they pin.
type httpsCert struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time
	cur               atomic.Pointer[tls.Certificate]
}

// newHTTPSCert loads the operator's pair when certFile is set, else
// serves fallback. A pair that cannot be used refuses the start.
func newHTTPSCert(certFile, keyFile string, fallback tls.Certificate, log *slog.Logger, now func() time.Time) (*httpsCert, error) {
	c := &httpsCert{certFile: certFile, keyFile: keyFile, log: log, now: now}
	if certFile == "" {
		if fallback.Leaf == nil && len(fallback.Certificate) > 0 {
			leaf, err := x509.ParseCertificate(fallback.Certificate[0])
			if err != nil {
				return nil, fmt.Errorf("parse server certificate: %w", err)
			}
			fallback.Leaf = leaf
		}
		c.cur.Store(&fallback)
		return c, nil
	}
	cert, err := loadCertPair(certFile, keyFile, now())
	if err != nil {
		return nil, err
	}
	c.cur.Store(cert)
	c.log.Info("https certificate loaded", "file", certFile, "subject", cert.Leaf.Subject.String(),
		"issuer", cert.Leaf.Issuer.String(), "not_after", cert.Leaf.NotAfter)
	c.checkExpiry()
	return c, nil
}

// loadCertPair reads a PEM certificate chain and its key, and refuses a
// pair that does not match or a certificate outside its validity.
func loadCertPair(certFile, keyFile string, now time.Time) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load https certificate %s with key %s: %w", certFile, keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parse https certificate %s: %w", certFile, err)
		}
	}
	switch {
	case now.After(cert.Leaf.NotAfter):
		return nil, fmt.Errorf("https certificate %s expired at %s", certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(cert.Leaf.NotBefore):
		return nil, fmt.Errorf("https certificate %s is not valid before %s", certFile, cert.Leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return &cert, nil
}

// GetCertificate is tls.Config.GetCertificate: every handshake gets the
// certificate current at that moment.
func (c *httpsCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// Current returns the certificate being served.
func (c *httpsCert) Current() *x509.Certificate { return c.cur.Load().Leaf }

// Reload reads the operator's pair again and serves it from the next
// handshake on. A pair that cannot be used leaves the current one
// served and is logged with the reason. Without an operator's pair it
// does nothing.
func (c *httpsCert) Reload() error {
	if c.certFile == "" {
		return nil
	}
	cert, err := loadCertPair(c.certFile, c.keyFile, c.now())
	if err != nil {
		c.log.Error("https certificate reload failed; still serving the previous certificate", "err", err,
			"serving_not_after", c.Current().NotAfter)
		return err
	}
	c.cur.Store(cert)
	c.log.Info("https certificate reloaded", "file", c.certFile, "subject", cert.Leaf.Subject.String(),
		"issuer", cert.Leaf.Issuer.String(), "not_after", cert.Leaf.NotAfter)
	c.checkExpiry()
	return nil
}

// checkExpiry logs a warning while the certificate served ends within
// certExpiryWarning, and reports whether it does.
func (c *httpsCert) checkExpiry() bool {
	leaf := c.Current()
	left := leaf.NotAfter.Sub(c.now())
	if left > certExpiryWarning {
		return false
	}
	c.log.Warn("https certificate expiring", "subject", leaf.Subject.String(), "not_after", leaf.NotAfter,
		"days_left", int(left/(24*time.Hour)), "operator_certificate", c.certFile != "")
	return true
}

// register exports the served certificate's end as a gauge, so that an
// alert can fire before browsers refuse the console.
func (c *httpsCert) register(reg prometheus.Registerer) error {
	err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "postern_https_certificate_not_after_seconds",
		Help: "Unix time at which the certificate served on the HTTPS port expires.",
	}, func() float64 { return float64(c.Current().NotAfter.Unix()) }))
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return nil
	}
	return err
}

// watch reloads on every value from hup and checks the expiry daily,
// until ctx ends.
func (c *httpsCert) watch(ctx context.Context, hup <-chan os.Signal) {
	t := time.NewTicker(certCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			c.Reload()
		case <-t.C:
			c.checkExpiry()
		}
	}
}
