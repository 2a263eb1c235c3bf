package pkg

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// throwawaySigner makes a self-signed code-signing certificate and key.
func throwawaySigner(t *testing.T) Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Postern test code signing"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := Signer{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(s.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// windowsExe cross-compiles an empty Windows program, a real PE file.
func windowsExe(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "hello.exe")
	cmd := exec.Command("go", "build", "-ldflags", "-s -w", "-o", exe, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build windows exe: %v: %s", err, out)
	}
	return exe
}

func TestSign(t *testing.T) {
	need(t, "osslsigncode")
	ctx := context.Background()
	s := throwawaySigner(t)
	tests := []struct {
		name string
		file func(t *testing.T) string
	}{
		{"a signed Windows executable carries a parsable signature with a matching digest", windowsExe},
		{"a signed MSI carries a parsable signature with a matching digest", buildTestMSI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.file(t)
			before, err := s.Verify(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(before, "Signer's certificate") {
				t.Fatalf("unsigned file already verifies:\n%s", before)
			}
			if err := s.Sign(ctx, f, "Postern Agent"); err != nil {
				t.Fatal(err)
			}
			report, err := s.Verify(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			// A self-signed certificate is not trusted; the signature
			// must still parse, name our certificate and match the file.
			if !strings.Contains(report, "Subject: /CN=Postern test code signing") {
				t.Errorf("verify report does not name the signer:\n%s", report)
			}
			if !digestsMatch(report) {
				t.Errorf("digests do not match:\n%s", report)
			}
		})
	}
	t.Run("a PEM certificate without a key is refused", func(t *testing.T) {
		if err := (Signer{Cert: s.Cert}).Sign(ctx, "x.exe", "x"); err == nil || !strings.Contains(err.Error(), "SIGN_KEY") {
			t.Errorf("err = %v", err)
		}
	})
}

// digestsMatch reads osslsigncode's "Current X" and "Calculated X"
// lines (X is "message digest" for a PE file, "DigitalSignature" for an
// MSI) and reports whether there is at least one pair and every pair is
// equal, with SHA-256.
func digestsMatch(report string) bool {
	cur, calc := map[string]string{}, map[string]string{}
	sha256 := false
	for _, l := range strings.Split(report, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "Message digest algorithm":
			sha256 = v == "SHA256"
		case strings.HasPrefix(k, "Current "):
			cur[strings.TrimPrefix(k, "Current ")] = v
		case strings.HasPrefix(k, "Calculated "):
			calc[strings.TrimPrefix(k, "Calculated ")] = v
		}
	}
	pairs := 0
	for what, v := range cur {
		if c, ok := calc[what]; ok {
			if c != v || v == "" {
				return false
			}
			pairs++
		}
	}
	return sha256 && pairs > 0
}
