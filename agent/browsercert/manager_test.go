package browsercert

import (
	"context"
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
