package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/internal/clock"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreate(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the CA is ECDSA P-256 and valid for ten years", func(t *testing.T) {
		c := first.Certificate()
		k, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() {
			t.Fatalf("public key %T, want ECDSA P-256", c.PublicKey)
		}
		if got := c.NotAfter.Sub(t0); got != CALifetime {
			t.Errorf("lifetime %v, want %v", got, CALifetime)
		}
		if !c.IsCA {
			t.Error("certificate is not a CA")
		}
	})
	t.Run("files have the documented modes", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("modes are not meaningful on Windows")
		}
		for name, want := range map[string]os.FileMode{CAFile: 0o644, CAKeyFile: 0o600} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s mode %#o, want %#o", name, fi.Mode().Perm(), want)
			}
		}
	})
	t.Run("a second start loads the same CA", func(t *testing.T) {
		again, err := LoadOrCreate(dir, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if again.Pin() != first.Pin() {
			t.Error("pin changed across loads")
		}
		if want := sha256.Sum256(first.DER()); again.Pin() != want {
			t.Error("pin is not the SHA-256 of the CA DER")
		}
	})
	t.Run("a key readable by others is refused", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("modes are not meaningful on Windows")
		}
		keyPath := filepath.Join(dir, CAKeyFile)
		if err := os.Chmod(keyPath, 0o640); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(keyPath, 0o600)
		if _, err := LoadOrCreate(dir, t0); !errors.Is(err, ErrKeyPermissions) {
			t.Fatalf("err = %v, want ErrKeyPermissions", err)
		}
	})
	t.Run("a lone certificate without its key is an error, not a new CA", func(t *testing.T) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, CAFile), first.PEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreate(d, t0); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestServerCertificate(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadOrCreate(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	cert, err := c.ServerCertificate(dir, []string{"posture.example.org", "10.1.2.3"}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "posture.example.org", "10.1.2.3"} {
		t.Run("the certificate is valid for "+name, func(t *testing.T) {
			if err := cert.Leaf.VerifyHostname(name); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("it chains to the CA for server authentication", func(t *testing.T) {
		_, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: c.Pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Error(err)
		}
	})
	t.Run("the next start reuses it", func(t *testing.T) {
		again, err := c.ServerCertificate(dir, []string{"posture.example.org"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(cert.Certificate, again.Certificate); diff != "" {
			t.Errorf("certificate changed (-want +got):\n%s", diff)
		}
	})
	t.Run("a new configured name issues a new certificate", func(t *testing.T) {
		again, err := c.ServerCertificate(dir, []string{"other.example.org"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if again.Leaf.VerifyHostname("other.example.org") != nil {
			t.Error("new name missing")
		}
	})
	if runtime.GOOS != "windows" {
		t.Run("server.key is written 0600", func(t *testing.T) {
			fi, err := os.Stat(filepath.Join(dir, ServerKeyFile))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %#o", fi.Mode().Perm())
			}
		})
	}
}

func csrFor(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ignored"}, DNSNames: []string{"evil.example"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestSignCSR(t *testing.T) {
	c, err := LoadOrCreate(t.TempDir(), t0)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	tampered := csrFor(t, p256)
	tampered[len(tampered)-1] ^= 0xff

	tests := []struct {
		name    string
		csr     []byte
		wantErr bool
	}{
		{"an ECDSA P-256 request is signed", csrFor(t, p256), false},
		{"an Ed25519 request is signed", csrFor(t, ed), false},
		{"an RSA 2048 request is signed", csrFor(t, rsa2048), false},
		{"an ECDSA P-384 request is refused", csrFor(t, p384), true},
		{"an RSA 1024 request is refused", csrFor(t, rsa1024), true},
		{"a request with a broken signature is refused", tampered, true},
		{"garbage is refused", []byte("not a csr"), true},
		{"an empty request is refused", nil, true},
	}
	now := t0.Add(time.Hour)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := c.SignCSR(tt.csr, "0b6f3c1e-8f0a-4b8e-9d55-0d1f7f0b2a11", now, now.Add(DeviceLifetime))
			if tt.wantErr {
				if !errors.Is(err, ErrBadCSR) {
					t.Fatalf("err = %v, want ErrBadCSR", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cert.Subject.CommonName != "0b6f3c1e-8f0a-4b8e-9d55-0d1f7f0b2a11" {
				t.Errorf("CN = %q", cert.Subject.CommonName)
			}
			if diff := cmp.Diff([]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, cert.ExtKeyUsage); diff != "" {
				t.Errorf("ext key usage (-want +got):\n%s", diff)
			}
			if len(cert.DNSNames) != 0 {
				t.Errorf("requested names were copied: %v", cert.DNSNames)
			}
			if !cert.NotAfter.Equal(now.Add(DeviceLifetime)) {
				t.Errorf("not after %v", cert.NotAfter)
			}
			if cert.SerialNumber.BitLen() < 120 {
				t.Errorf("serial has %d bits", cert.SerialNumber.BitLen())
			}
			if _, err := cert.Verify(x509.VerifyOptions{Roots: c.Pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

func TestSignCSRUsesFreshSerials(t *testing.T) {
	c, err := LoadOrCreate(t.TempDir(), t0)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr := csrFor(t, key)
	a, err := c.SignCSR(csr, "a", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.SignCSR(csr, "a", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if a.SerialNumber.Cmp(b.SerialNumber) == 0 {
		t.Error("two certificates share a serial")
	}
}
