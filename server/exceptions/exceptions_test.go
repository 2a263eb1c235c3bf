package exceptions

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	st  store.Store
	svc *Service
	ix  *Index
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.OpenSQLite(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, now: t0}
	clock := func() time.Time { return f.now }
	f.svc = NewService(st, audit.New(st, clock, nil), clock)
	f.ix = NewIndex(st, clock, nil)
	_, tok, _ := store.NewEnrollToken([32]byte{}, time.Hour, "clinic-a", "alice", t0)
	if err := st.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Enroll(t.Context(), tok.Hash, store.Device{ID: "dev", CertSHA256: "x", CertNotAfter: t0.Add(time.Hour)}, t0); err != nil {
		t.Fatal(err)
	}
	return f
}

func valid() Grant {
	return Grant{Scope: store.ScopeDevice, Subject: "dev", Control: checks.OSPatched, Reason: "vendor patch pending",
		Approver: "carol", ExpiresAt: t0.Add(30 * 24 * time.Hour)}
}

func TestGrantValidation(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(g *Grant)
		wantErr string
	}{
		{"a complete grant is accepted", func(*Grant) {}, ""},
		{"a grant of exactly 365 days is accepted", func(g *Grant) { g.ExpiresAt = t0.Add(MaxDuration) }, ""},
		{"a grant longer than 365 days is refused", func(g *Grant) { g.ExpiresAt = t0.Add(MaxDuration + time.Second) }, "at most 365 days"},
		{"a grant without an approver is refused", func(g *Grant) { g.Approver = "" }, "approver"},
		{"a grant without a reason is refused", func(g *Grant) { g.Reason = "  " }, "reason"},
		{"a grant for an unknown control is refused", func(g *Grant) { g.Control = "teleport" }, "control"},
		{"a grant with a bad scope is refused", func(g *Grant) { g.Scope = "fleet" }, "scope"},
		{"a grant without expiry is refused", func(g *Grant) { g.ExpiresAt = time.Time{} }, "expiry is required"},
		{"a grant expiring before it starts is refused", func(g *Grant) { g.StartsAt = t0.Add(time.Hour); g.ExpiresAt = t0 }, "after the start"},
		{"a grant starting a week ago is refused", func(g *Grant) { g.StartsAt = t0.Add(-7 * 24 * time.Hour) }, "in the past"},
		{"a device grant for an unknown device is refused", func(g *Grant) { g.Subject = "ghost" }, "no device"},
		{"an organization grant needs no device", func(g *Grant) { g.Scope, g.Subject = store.ScopeOrg, "clinic-z" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			g := valid()
			tt.edit(&g)
			_, err := f.svc.Grant(t.Context(), g)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestExceptionLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e, err := f.svc.Grant(ctx, valid())
	if err != nil {
		t.Fatal(err)
	}
	org := valid()
	org.Scope, org.Subject, org.Control = store.ScopeOrg, "clinic-a", checks.Firewall
	if _, err := f.svc.Grant(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := f.ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	controls := func(at time.Time) []checks.ControlID {
		var out []checks.ControlID
		for id := range f.ix.Waived("dev", "clinic-a", at) {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	t.Run("device and organization exceptions both apply", func(t *testing.T) {
		if got := controls(t0); !slices.Equal(got, []checks.ControlID{checks.Firewall, checks.OSPatched}) {
			t.Errorf("waived = %v", got)
		}
	})
	t.Run("another organization's device gets only its own", func(t *testing.T) {
		if got := f.ix.Waived("other", "clinic-b", t0); len(got) != 0 {
			t.Errorf("waived = %v", got)
		}
	})
	t.Run("exceptions stop applying at expiry without a refresh", func(t *testing.T) {
		if got := controls(e.ExpiresAt); len(got) != 0 {
			t.Errorf("waived at expiry = %v", got)
		}
	})
	t.Run("an ended exception stops applying after the next refresh and is audited", func(t *testing.T) {
		f.now = t0.Add(time.Hour)
		if err := f.svc.End(ctx, e.ID, "dave", "patched"); err != nil {
			t.Fatal(err)
		}
		f.ix.Refresh(ctx)
		if got := controls(f.now); !slices.Equal(got, []checks.ControlID{checks.Firewall}) {
			t.Errorf("waived = %v", got)
		}
		if err := f.svc.End(ctx, e.ID, "dave", ""); err == nil {
			t.Error("ending twice succeeded")
		}
		rows, _ := f.st.AuditRows(ctx, 0, 0)
		var kinds []string
		for _, r := range rows {
			kinds = append(kinds, r.Kind+"/"+r.Actor)
		}
		want := []string{audit.KindExceptionGranted + "/carol", audit.KindExceptionGranted + "/carol", audit.KindExceptionEnded + "/dave"}
		if !slices.Equal(kinds, want) {
			t.Errorf("audit = %v, want %v", kinds, want)
		}
	})
	t.Run("list hides ended exceptions unless asked", func(t *testing.T) {
		open, _ := f.svc.List(ctx, false)
		all, _ := f.svc.List(ctx, true)
		if len(open) != 1 || len(all) != 2 {
			t.Errorf("open %d all %d, want 1 and 2", len(open), len(all))
		}
	})
	t.Run("expired exceptions drop out of the list", func(t *testing.T) {
		f.now = t0.Add(31 * 24 * time.Hour)
		all, _ := f.svc.List(ctx, true)
		if len(all) != 0 {
			t.Errorf("list = %+v", all)
		}
	})
}

func TestAttest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Attest(ctx, "ghost", "alice", "v1", "carol"); err == nil {
		t.Error("attesting for an unknown device succeeded")
	}
	if _, err := f.svc.Attest(ctx, "dev", "", "v1", "carol"); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
	if _, err := f.svc.Attest(ctx, "dev", "alice", "v1", "carol"); err != nil {
		t.Fatal(err)
	}
	f.ix.Refresh(ctx)
	if at, ok := f.ix.AttestedAt("dev"); !ok || !at.Equal(t0) {
		t.Errorf("attested at %v, %v", at, ok)
	}
	// Two years on, the attestation has expired but is still the device's
	// latest: the decision's grace runs from its expiry, not from the
	// device's enrollment as if it had never attested.
	f.now = t0.Add(2 * 365 * 24 * time.Hour)
	f.ix.Refresh(ctx)
	if at, ok := f.ix.AttestedAt("dev"); !ok || !at.Equal(t0) {
		t.Errorf("two years later: attested at %v, %v; want the expired attestation of %v", at, ok, t0)
	}
}
