package state

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"testing"

	"github.com/postern-dev/postern/agent/devkey"
)

func TestAgentSecret(t *testing.T) {
	ca := newTestCA(t)
	d, _ := Open(t.TempDir())
	save := func(t *testing.T, secret []byte, force bool) {
		t.Helper()
		key, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.SaveEnrollment(Enrollment{DeviceID: "dev", Server: "s:1", EnrolledAt: t0, Key: devkey.SoftwareKey{PrivateKey: key},
			CertDER: ca.issue(t, &key.PublicKey, "dev"), CADER: ca.cert.Raw, AgentSecret: secret}, force); err != nil {
			t.Fatal(err)
		}
	}
	first := bytes.Repeat([]byte{1}, 32)
	t.Run("the secret from enrollment is saved private and loaded with the credentials", func(t *testing.T) {
		save(t, first, false)
		if runtime.GOOS != "windows" {
			if m := mode(t, d.File(AgentSecretFile)); m != 0o600 {
				t.Errorf("mode %v, want 0600", m)
			}
		}
		c, err := d.LoadCredentials()
		if err != nil || !bytes.Equal(c.AgentSecret, first) {
			t.Fatalf("loaded %x, %v", c.AgentSecret, err)
		}
	})
	t.Run("a renewal keeps it", func(t *testing.T) {
		c, _ := d.LoadCredentials()
		if err := d.SaveRenewedCertificate(c.Certificate.Certificate[0], t0); err != nil {
			t.Fatal(err)
		}
		if c, _ := d.LoadCredentials(); !bytes.Equal(c.AgentSecret, first) {
			t.Fatalf("loaded %x", c.AgentSecret)
		}
	})
	t.Run("a re-enrollment with a server that issues none removes the old one", func(t *testing.T) {
		save(t, nil, true)
		if _, err := os.Stat(d.File(AgentSecretFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("stat: %v", err)
		}
		if c, err := d.LoadCredentials(); err != nil || c.AgentSecret != nil {
			t.Fatalf("loaded %x, %v", c.AgentSecret, err)
		}
	})
	t.Run("a damaged secret file is an error, not a missing secret", func(t *testing.T) {
		save(t, first, true)
		if err := os.WriteFile(d.File(AgentSecretFile), []byte("short"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := d.LoadCredentials(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
}
