package state

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/agent/devkey"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// testCA issues device certificates for keys, as the server would.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) issue(t *testing.T, pub *ecdsa.PublicKey, cn string) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(12 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func enroll(t *testing.T, d *Dir, ca *testCA, force bool) (Identity, error) {
	t.Helper()
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return d.SaveEnrollment(Enrollment{
		DeviceID: "0b6c3c1e-0000-4000-8000-000000000001", Server: "posture.example:4433", EnrolledAt: t0,
		Key: devkey.SoftwareKey{PrivateKey: key}, CertDER: ca.issue(t, &key.PublicKey, "0b6c3c1e-0000-4000-8000-000000000001"), CADER: ca.cert.Raw,
	}, force)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpenCreatesAPrivateDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	tests := []struct {
		name  string
		setup func(path string)
	}{
		{"a missing directory is created 0700", func(string) {}},
		{"a world-readable directory is tightened to 0700", func(p string) { _ = os.Mkdir(p, 0o755) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state")
			tt.setup(path)
			if _, err := Open(path); err != nil {
				t.Fatal(err)
			}
			if got := mode(t, path); got != 0o700 {
				t.Errorf("mode = %v, want 0700", got)
			}
		})
	}
	t.Run("a file in the way is an error", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "f")
		_ = os.WriteFile(path, nil, 0o600)
		if _, err := Open(path); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestEnrollment(t *testing.T) {
	ca := newTestCA(t)
	t.Run("a saved enrollment loads back as credentials with a private key file", func(t *testing.T) {
		d, _ := Open(t.TempDir())
		id, err := enroll(t, d, ca, false)
		if err != nil {
			t.Fatal(err)
		}
		creds, err := d.LoadCredentials()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(id, creds.Identity); diff != "" {
			t.Errorf("identity (-want +got):\n%s", diff)
		}
		if id.CertSHA256 != CertSHA256(creds.Certificate.Leaf.Raw) || len(id.CertSHA256) != 64 {
			t.Errorf("cert_sha256 = %q", id.CertSHA256)
		}
		if !creds.CA.Equal(ca.cert) {
			t.Error("CA differs")
		}
		if runtime.GOOS != "windows" {
			for _, f := range []string{KeyFile, IdentityFile} {
				if got := mode(t, d.File(f)); got != 0o600 {
					t.Errorf("%s mode = %v, want 0600", f, got)
				}
			}
		}
	})
	t.Run("a second enrollment is refused without force", func(t *testing.T) {
		d, _ := Open(t.TempDir())
		first, err := enroll(t, d, ca, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := enroll(t, d, ca, false); !errors.Is(err, ErrAlreadyEnrolled) {
			t.Fatalf("err = %v, want ErrAlreadyEnrolled", err)
		}
		got, _ := d.LoadIdentity()
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("the refused enrollment changed the identity (-want +got):\n%s", diff)
		}
		second, err := enroll(t, d, ca, true)
		if err != nil {
			t.Fatalf("forced: %v", err)
		}
		if second.CertSHA256 == first.CertSHA256 {
			t.Error("forced enrollment kept the old certificate")
		}
	})
	t.Run("a certificate for another key is refused", func(t *testing.T) {
		d, _ := Open(t.TempDir())
		key, _ := NewKey()
		other, _ := NewKey()
		_, err := d.SaveEnrollment(Enrollment{DeviceID: "x", Server: "s", Key: devkey.SoftwareKey{PrivateKey: key}, CertDER: ca.issue(t, &other.PublicKey, "x"), CADER: ca.cert.Raw}, false)
		if err == nil {
			t.Fatal("no error")
		}
		if _, err := d.LoadIdentity(); !errors.Is(err, ErrNotEnrolled) {
			t.Errorf("identity after refusal: %v", err)
		}
	})
	t.Run("a key readable by others is refused", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("POSIX modes")
		}
		d, _ := Open(t.TempDir())
		if _, err := enroll(t, d, ca, false); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(d.File(KeyFile), 0o644)
		if _, err := d.LoadCredentials(); !errors.Is(err, ErrKeyPermissions) {
			t.Fatalf("err = %v, want ErrKeyPermissions", err)
		}
	})
	t.Run("an unenrolled directory says so", func(t *testing.T) {
		d, _ := Open(t.TempDir())
		if _, err := d.LoadCredentials(); !errors.Is(err, ErrNotEnrolled) {
			t.Fatalf("err = %v, want ErrNotEnrolled", err)
		}
	})
}

func TestRenewedCertificate(t *testing.T) {
	ca := newTestCA(t)
	d, _ := Open(t.TempDir())
	id, err := enroll(t, d, ca, false)
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := d.LoadCredentials()
	pub := creds.Certificate.Leaf.PublicKey.(*ecdsa.PublicKey)
	other, _ := NewKey()
	stranger := newTestCA(t)
	tests := []struct {
		name    string
		der     []byte
		wantErr bool
	}{
		{"a certificate for another key is refused", ca.issue(t, &other.PublicKey, id.DeviceID), true},
		{"a certificate for another device is refused", ca.issue(t, pub, "someone-else"), true},
		{"a certificate from another CA is refused", stranger.issue(t, pub, id.DeviceID), true},
		{"a good certificate replaces the old one and its hash", ca.issue(t, pub, id.DeviceID), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.SaveRenewedCertificate(tt.der, t0)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			got, _ := d.LoadIdentity()
			if want := CertSHA256(tt.der); (got.CertSHA256 == want) == tt.wantErr {
				t.Errorf("cert_sha256 = %s", got.CertSHA256)
			}
		})
	}
}

func TestState(t *testing.T) {
	t.Run("a fresh state starts at sequence 1", func(t *testing.T) {
		d, _ := Open(t.TempDir())
		st, err := d.LoadState()
		if err != nil {
			t.Fatal(err)
		}
		if st.NextSequence != 1 {
			t.Errorf("next sequence = %d", st.NextSequence)
		}
	})
	t.Run("reserved sequences increase and survive reopening", func(t *testing.T) {
		path := t.TempDir()
		d, _ := Open(path)
		var got []uint64
		for range 3 {
			s, err := d.ReserveSequence()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		d2, _ := Open(path)
		s, _ := d2.ReserveSequence()
		got = append(got, s)
		if diff := cmp.Diff([]uint64{1, 2, 3, 4}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if runtime.GOOS != "windows" && mode(t, d.File(StateFile)) != 0o600 {
			t.Error("state.json is not 0600")
		}
	})
	t.Run("an update round-trips every field", func(t *testing.T) {
		d, _ := Open(t.TempDir())
		want, err := d.UpdateState(func(s *State) {
			s.LastReport = &ReportInfo{Sequence: 7, Time: t0, Findings: []Finding{{ID: "firewall", Title: "Host firewall on", Status: "fail", Summary: "off", Remediation: "turn it on", Enforcement: "block"}}}
			s.LastAck = &AckInfo{Sequence: 7, Time: t0.Add(time.Second), Duplicate: true}
			s.LastError = &ErrorInfo{Time: t0, Message: "dial: timeout"}
			s.DroppedReports = 2
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.LoadState()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a corrupt state file is an error, not a silent reset", func(t *testing.T) {
		d, _ := Open(t.TempDir())
		_ = os.WriteFile(d.File(StateFile), []byte("{not json"), 0o600)
		if _, err := d.LoadState(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
}

func TestPolicy(t *testing.T) {
	d, _ := Open(t.TempDir())
	p, err := d.LoadPolicy()
	if err != nil || p.MaxReportAge != 15*time.Minute {
		t.Fatalf("default policy: %v, %+v", err, p)
	}
	if _, err := d.SavePolicy([]byte("max_age: 5m\n")); err == nil {
		t.Fatal("a bad policy was saved")
	}
	if _, err := d.SavePolicy([]byte("max_report_age: 30m\n")); err != nil {
		t.Fatal(err)
	}
	p, err = d.LoadPolicy()
	if err != nil || p.MaxReportAge != 30*time.Minute {
		t.Fatalf("saved policy: %v, %+v", err, p)
	}
}

func TestDefaultDirFor(t *testing.T) {
	tests := []struct{ goos, programData, want string }{
		{"linux", "", "/var/lib/postern"},
		{"darwin", "", "/Library/Application Support/Postern"},
		{"windows", `D:\PD`, `D:\PD\Postern`},
		{"windows", "", `C:\ProgramData\Postern`},
	}
	for _, tt := range tests {
		t.Run(tt.goos+" uses "+tt.want, func(t *testing.T) {
			if got := defaultDirFor(tt.goos, tt.programData); got != tt.want {
				t.Errorf("got %q", got)
			}
		})
	}
}
