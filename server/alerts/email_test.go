package alerts

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server (emersion/go-smtp) on loopback that
// keeps what it receives and whether it came over TLS.
type mailbox struct {
	mu       sync.Mutex
	messages []received
	user, pw string
}

type received struct {
	from  string
	to    []string
	data  string
	tls   bool
	authd bool
}

func (m *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &mailSession{m: m, tls: isTLS}, nil
}

type mailSession struct {
	m     *mailbox
	tls   bool
	authd bool
	cur   received
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pw string) error {
		if user != s.m.user || pw != s.m.pw {
			return errors.New("invalid credentials")
		}
		s.authd = true
		return nil
	}), nil
}
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.m.user != "" && !s.authd {
		return errors.New("authenticate first")
	}
	s.cur = received{from: from}
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data, s.cur.tls, s.cur.authd = string(b), s.tls, s.authd
	s.m.mu.Lock()
	s.m.messages = append(s.m.messages, s.cur)
	s.m.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// startSMTP serves m on 127.0.0.1:0, offering STARTTLS with cert when
// it is set; it returns the address.
func startSMTP(t *testing.T, m *mailbox, cert *tls.Certificate) string {
	t.Helper()
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	} else {
		srv.AllowInsecureAuth = true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestEmailOverSTARTTLS(t *testing.T) {
	cert, pool, _ := testCert(t, t0.AddDate(1, 0, 0))
	batch := Batch{Alerts: []Alert{
		{Kind: KindDeviceBlocked, Title: "Device ws-114 blocked", Text: "Its access is denied: firewall off.", At: t0},
		{Kind: KindPolicyHeld, Title: "Policy change held", Text: "It would deny 40 of 50 devices.", At: t0},
	}}

	t.Run("a batch arrives as one message over TLS, authenticated", func(t *testing.T) {
		m := &mailbox{user: "postern", pw: "s3cret-smtp-pass"}
		addr := startSMTP(t, m, &cert)
		e := &Email{Addr: addr, Username: "postern", Password: "s3cret-smtp-pass", From: "postern@county.example",
			To: []string{"soc@county.example", "it@county.example"}, TLS: &tls.Config{RootCAs: pool}, Now: func() time.Time { return t0 }}
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := e.Send(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		if len(m.messages) != 1 {
			t.Fatalf("%d messages, want 1", len(m.messages))
		}
		got := m.messages[0]
		if !got.tls || !got.authd || got.from != "postern@county.example" || len(got.to) != 2 {
			t.Errorf("received tls=%v auth=%v from=%q to=%v", got.tls, got.authd, got.from, got.to)
		}
		for _, want := range []string{"Subject: [Postern] 2 alerts: 1 device blocked, 1 policy change held", "* Device ws-114 blocked (2026-05-04 09:30 UTC)",
			"It would deny 40 of 50 devices.", "Auto-Submitted: auto-generated"} {
			if !strings.Contains(got.data, want) {
				t.Errorf("message lacks %q:\n%s", want, got.data)
			}
		}
	})
	t.Run("a server without STARTTLS gets neither the password nor the mail", func(t *testing.T) {
		m := &mailbox{user: "postern", pw: "s3cret-smtp-pass"}
		addr := startSMTP(t, m, nil)
		e := &Email{Addr: addr, Username: "postern", Password: "s3cret-smtp-pass", From: "postern@county.example", To: []string{"soc@county.example"}}
		err := e.Send(context.Background(), batch)
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") || len(m.messages) != 0 {
			t.Errorf("Send = %v, %d messages; want a STARTTLS refusal and none", err, len(m.messages))
		}
	})
	t.Run("a certificate the trust roots do not know is refused", func(t *testing.T) {
		m := &mailbox{}
		addr := startSMTP(t, m, &cert)
		e := &Email{Addr: addr, From: "postern@county.example", To: []string{"soc@county.example"}}
		if err := e.Send(context.Background(), batch); err == nil || len(m.messages) != 0 {
			t.Errorf("Send with the system roots = %v, %d messages; want a certificate error", err, len(m.messages))
		}
	})
	t.Run("a wrong password is an error and never logged", func(t *testing.T) {
		m := &mailbox{user: "postern", pw: "right-one"}
		addr := startSMTP(t, m, &cert)
		var logs bytes.Buffer
		e := &Email{Addr: addr, Username: "postern", Password: "wrong-secret-value", From: "postern@county.example",
			To: []string{"soc@county.example"}, TLS: &tls.Config{RootCAs: pool}}
		c := &testClock{t: t0}
		s := &sleeper{c: c}
		d := New(Config{Channels: []Channel{e}, Now: c.Now, Sleep: s.Sleep, Attempts: 2,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		d.Raise(batch.Alerts[0])
		d.Flush(context.Background())
		if len(m.messages) != 0 || !strings.Contains(logs.String(), "alert delivery failed") {
			t.Errorf("messages %d, logs %q", len(m.messages), logs.String())
		}
		if strings.Contains(logs.String(), "wrong-secret-value") {
			t.Error("the SMTP password is in the log")
		}
	})
}
