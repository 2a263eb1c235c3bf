package alerts

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/postern-dev/postern/internal/clock"
)

// Email sends batches through an SMTP server (a submission port, 587 by
// default), always upgrading to TLS with STARTTLS before any
// credentials or mail: a server that does not offer it is refused. It
// uses net/smtp, which does the STARTTLS upgrade and PLAIN
// authentication that is all this needs (docs/alerts.md).
type Email struct {
	// Addr is host:port of the SMTP server.
	Addr string
	// Username and Password authenticate (PLAIN, after STARTTLS); both
	// empty for a relay that does not ask.
	Username string
	Password string
	From     string
	To       []string
	// TLS verifies the server's certificate; the system roots and the
	// host of Addr when nil. Tests set RootCAs.
	TLS *tls.Config
	// Now dates the messages.
	Now func() time.Time
}

// Validate checks the addresses.
func (e *Email) Validate() error {
	if _, _, err := net.SplitHostPort(e.Addr); err != nil {
		return fmt.Errorf("alerts email: smtp address %q: want host:port", e.Addr)
	}
	if _, err := mail.ParseAddress(e.From); err != nil {
		return fmt.Errorf("alerts email: from %q: %w", e.From, err)
	}
	if len(e.To) == 0 {
		return errors.New("alerts email: no recipients (to)")
	}
	for _, to := range e.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("alerts email: to %q: %w", to, err)
		}
	}
	if (e.Username == "") != (e.Password == "") {
		return errors.New("alerts email: set both the username and the password file, or neither")
	}
	return nil
}

// Name is the channel's name in logs: the server's address, no secret.
func (e *Email) Name() string { return "email " + e.Addr }

// Send delivers b as one message to every recipient.
func (e *Email) Send(ctx context.Context, b Batch) error {
	host, _, _ := net.SplitHostPort(e.Addr)
	d := net.Dialer{Timeout: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return fmt.Errorf("connect to smtp server: %w", err)
	}
	deadline := time.Now().Add(time.Minute) // wall clock: a network deadline, not a date
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return errors.New("smtp server does not offer STARTTLS; refusing to send in the clear")
	}
	cfg := e.TLS.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	if err := c.StartTLS(cfg); err != nil {
		return fmt.Errorf("smtp starttls: %w", err)
	}
	if e.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.Username, e.Password, host)); err != nil {
			return fmt.Errorf("smtp authentication as %s: %w", e.Username, err)
		}
	}
	if err := c.Mail(e.From); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	for _, to := range e.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("smtp rcpt to %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(e.message(b)); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	return c.Quit()
}

// message is b as an RFC 5322 message in UTF-8 plain text.
func (e *Email) message(b Batch) []byte {
	now := clock.Now
	if e.Now != nil {
		now = e.Now
	}
	var sb strings.Builder
	hdr := func(k, v string) { fmt.Fprintf(&sb, "%s: %s\r\n", k, v) }
	hdr("From", e.From)
	hdr("To", strings.Join(e.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", b.Subject()))
	hdr("Date", now().Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	hdr("Auto-Submitted", "auto-generated")
	sb.WriteString("\r\n")
	for _, line := range strings.Split(b.PlainText(), "\n") {
		// A lone "." ends the data; net/smtp's writer dot-stuffs, and
		// CRLF line ends are the wire's.
		sb.WriteString(strings.TrimRight(line, "\r") + "\r\n")
	}
	return []byte(sb.String())
}
