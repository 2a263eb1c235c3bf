package browsercert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/agent/allowcmd"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testIdentity returns a device identity issued by a throwaway CA named
// "Postern device CA test"; serial distinguishes renewals of one key.
func testIdentity(t *testing.T, key *ecdsa.PrivateKey, serial int64) Identity {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Postern device CA test", Organization: []string{"Postern"}},
		NotBefore: t0, NotAfter: t0.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	if key == nil {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "dev-7f3a"},
		NotBefore: t0, NotAfter: t0.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return Identity{DeviceID: "dev-7f3a", Cert: cert, Key: SoftwareKey{key}, GatewayURL: "https://ehr.dmh.example:8443"}
}

// recorder is an allowcmd.Runner that records command lines and answers
// from a script; a command with no answer succeeds with no output.
type recorder struct {
	mu    sync.Mutex
	lines []string
	fail  func(line string) bool
}

func (r *recorder) Run(_ context.Context, p allowcmd.Program, args ...string) ([]byte, error) {
	line := strings.Join(append([]string{string(p)}, args...), " ")
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
	if r.fail != nil && r.fail(line) {
		return nil, errFake
	}
	return nil, nil
}

type fakeErr struct{}

func (fakeErr) Error() string { return "exit status 255" }

var errFake = fakeErr{}
