package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/output"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/testserver"
)

// storeKey is a key a platform store made: hardware to the agent, held
// here in memory because the store is a stand-in for CNG.
type storeKey struct{ devkey.SoftwareKey }

func (storeKey) Kind() devkey.Kind     { return devkey.Hardware }
func (storeKey) Blob() ([]byte, error) { return []byte(`{"store":"cng"}`), nil }

// creatorStore stands in for the Platform Crypto Provider: it makes keys
// without attestation.
type creatorStore struct{ made storeKey }

func (s *creatorStore) Create() (devkey.Key, []byte, error) {
	k, err := devkey.NewSoftwareKey()
	if err != nil {
		return nil, nil, err
	}
	s.made = storeKey{k}
	b, _ := s.made.Blob()
	return s.made, b, nil
}
func (s *creatorStore) Load([]byte) (devkey.Key, error) { return s.made, nil }
func (s *creatorStore) Close() error                    { return nil }

func TestAnUnattestedStoreKeyIsKeptInTheStoreAndRecordedAsSoftwareByTheServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := testserver.Start(t, ctx, testserver.Options{})
	ks := &creatorStore{}
	opts := EnrollOptions{Server: srv.QUICAddr, Token: srv.Cmd(t, "token", "create")}
	dev := checks.Device{Hostname: "win-1", OS: "windows", OSName: "Windows 11 Pro", OSVersion: "10.0.26100", Arch: "amd64"}
	key, res, err := enrollKey(ctx, opts, ks, dev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key.Kind() != devkey.Hardware {
		t.Errorf("key kind %q, want hardware", key.Kind())
	}
	dirPath := t.TempDir()
	dir, err := state.Open(dirPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.SaveEnrollment(state.Enrollment{DeviceID: res.DeviceID, Server: opts.Server, EnrolledAt: time.Now(),
		Key: key, CertDER: res.CertDER, CADER: res.CADER}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dirPath, state.KeyFile)); err == nil {
		t.Error("a PEM key file was written for a key store's key")
	}
	if _, err := os.Stat(filepath.Join(dirPath, state.TPMKeyFile)); err != nil {
		t.Errorf("no key reference: %v", err)
	}
	if d := srv.Decision(t, srv.Cmd(t, "apikey", "create", "--name", "gw"), "device_id="+res.DeviceID); d.Key != "software" {
		t.Errorf("the server says key %q for an unattested key, want software", d.Key)
	}
}

// cngLike is a key store that makes keys without attestation, as the
// Platform Crypto Provider does on Windows.
type cngLike struct{ devkey.Store }

func TestVerifiedKindSaysWhatTheServerCanHaveChecked(t *testing.T) {
	tests := []struct {
		name, server string
		ks           devkey.Store
		want         devkey.Kind
	}{
		{"the server's word is taken", "software", &devkey.TPM{}, devkey.Software},
		{"an attested TPM key from a server that does not say is hardware", "", &devkey.TPM{}, devkey.Hardware},
		{"a Platform Crypto Provider key, sent unattested, is software", "", cngLike{}, devkey.Software},
		{"a key file is software", "", nil, devkey.Software},
		{"an unknown word from the server is not believed", "titanium", cngLike{}, devkey.Software},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verifiedKind(tt.server, tt.ks); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeyStoreNames(t *testing.T) {
	for _, tt := range []struct {
		kind       devkey.Kind
		goos, want string
	}{
		{devkey.Hardware, "linux", "tpm"},
		{devkey.Hardware, "windows", "platform_crypto_provider"},
		{devkey.Software, "windows", "file"},
	} {
		if got := keyStoreName(tt.kind, tt.goos); got != tt.want {
			t.Errorf("%s on %s: got %q, want %q", tt.kind, tt.goos, got, tt.want)
		}
	}
	if got := output.KeyLine("software", "platform_crypto_provider"); !strings.Contains(got, "not attested") {
		t.Errorf("status line %q does not say the key is unattested", got)
	}
}
