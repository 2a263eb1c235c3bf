package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern-dev/postern/agent/devkey"
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
