package browsercert

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks/consoleuser"
)

type fakeStore struct{ log []string }

func (f *fakeStore) Place(_ context.Context, u consoleuser.User, id Identity) error {
	f.log = append(f.log, "place "+u.Name+" "+id.DeviceID)
	return nil
}

func (f *fakeStore) Remove(_ context.Context, u consoleuser.User, deviceID string) error {
	f.log = append(f.log, "remove "+u.Name+" "+deviceID)
	return nil
}

type fakePolicies struct{ log []string }

func (f *fakePolicies) Write(_ context.Context, url, cn string) error {
	f.log = append(f.log, "write "+url+" "+cn)
	return nil
}

func (f *fakePolicies) Remove(context.Context) error {
	f.log = append(f.log, "remove")
	return nil
}

func TestManager(t *testing.T) {
	ctx := context.Background()
	st, pol := &fakeStore{}, &fakePolicies{}
	who := consoleuser.User{Name: "alice", ID: "1000", Home: "/home/alice"}
	m := &Manager{Store: st, Policies: pol, StateDir: t.TempDir(),
		ConsoleUser: func(context.Context) (consoleuser.User, error) { return who, nil }}
	id := testIdentity(t, nil, 2)
	if err := m.Sync(ctx, id); err != nil {
		t.Fatal(err)
	}
	who = consoleuser.User{Name: "bob", ID: "1001", Home: "/home/bob"}
	if err := m.Sync(ctx, id); err != nil {
		t.Fatal(err)
	}
	who = consoleuser.User{}
	m.ConsoleUser = func(context.Context) (consoleuser.User, error) { return who, consoleuser.ErrNoConsoleUser }
	t.Run("with nobody at the console nothing changes", func(t *testing.T) {
		if err := m.Sync(ctx, id); !errors.Is(err, consoleuser.ErrNoConsoleUser) {
			t.Fatalf("err = %v", err)
		}
	})
	if err := m.Clear(ctx, id.DeviceID); err != nil {
		t.Fatal(err)
	}
	wantStore := []string{"place alice dev-7f3a", "place bob dev-7f3a", "remove alice dev-7f3a", "remove bob dev-7f3a"}
	if diff := cmp.Diff(wantStore, st.log); diff != "" {
		t.Errorf("every user who got the certificate loses it, even signed out (-want +got):\n%s", diff)
	}
	wantPol := []string{"write https://ehr.dmh.example:8443 Postern device CA test", "write https://ehr.dmh.example:8443 Postern device CA test", "remove"}
	if diff := cmp.Diff(wantPol, pol.log); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
}

// wrapped is a software key type as the state directory may hold it: a
// struct embedding the ECDSA key.
type wrapped struct{ *ecdsa.PrivateKey }

type platformSigner struct{ crypto.Signer }

func TestInMemoryECDSA(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name string
		key  any
		want bool
	}{
		{"a plain ECDSA key is a software key", k, true},
		{"a struct embedding one is a software key", wrapped{k}, true},
		{"a pointer to such a struct is a software key", &wrapped{k}, true},
		{"a platform's signer is not", platformSigner{k}, false},
		{"an empty wrapper is not", wrapped{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := inMemoryECDSA(tt.key); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHardwareKeysAreNotExported(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id := testIdentity(t, k, 2)
	id.Key = hardwareKey{platformSigner{k}}
	if _, _, err := exportPKCS12(id); !errors.Is(err, ErrKeyNotExportable) {
		t.Fatalf("err = %v, want ErrKeyNotExportable", err)
	}
}
