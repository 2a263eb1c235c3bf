package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	dir, path string
	st        store.Store
	log       *audit.Log
	impact    Impact
	changes   []uint64
}

func newEnv(t *testing.T, initial string) *env {
	t.Helper()
	e := &env{dir: t.TempDir()}
	e.path = filepath.Join(e.dir, "policy.yaml")
	e.write(t, initial)
	st, err := store.OpenSQLite(t.Context(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.log = audit.New(st, func() time.Time { return t0 }, nil)
	return e
}

func (e *env) write(t *testing.T, s string) {
	t.Helper()
	if err := os.WriteFile(e.path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (e *env) manager(t *testing.T) *Manager {
	t.Helper()
	m, err := NewManager(t.Context(), Config{Path: e.path, Store: e.st, Audit: e.log, Now: func() time.Time { return t0 },
		Impact:   func(context.Context, *Set, *Set) (Impact, error) { return e.impact, nil },
		OnChange: func(s *Set) { e.changes = append(e.changes, s.Version) }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *env) kinds(t *testing.T) []string {
	t.Helper()
	rows, err := e.st.AuditRows(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Kind)
	}
	return out
}

func firewall(m *Manager) checks.Enforcement {
	return m.Current().Default.Policy.Control(checks.Firewall).Enforcement
}

func TestManager(t *testing.T) {
	t.Run("a changed file is applied with the next version", func(t *testing.T) {
		e := newEnv(t, "max_report_age: 15m\n")
		m := e.manager(t)
		old := m.Current()
		e.write(t, "controls:\n  firewall:\n    enforcement: report\n")
		if err := m.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		if m.Current().Version != old.Version+1 || firewall(m) != checks.EnforceReport {
			t.Errorf("version %d enforcement %s, want %d report", m.Current().Version, firewall(m), old.Version+1)
		}
		if old.Default.Policy.Control(checks.Firewall).Enforcement != checks.EnforceBlock {
			t.Error("the previous set was modified in place")
		}
	})
	t.Run("an unchanged file keeps the version", func(t *testing.T) {
		e := newEnv(t, "max_report_age: 15m\n")
		m := e.manager(t)
		v := m.Current().Version
		m.Reload(t.Context())
		if m.Current().Version != v {
			t.Errorf("version = %d, want %d", m.Current().Version, v)
		}
	})
	t.Run("an invalid file keeps the active policy and is reported and audited once", func(t *testing.T) {
		e := newEnv(t, "max_report_age: 15m\n")
		m := e.manager(t)
		e.write(t, "max_report_age: soon\n")
		for range 2 {
			if err := m.Reload(t.Context()); err == nil {
				t.Fatal("reload of an invalid file succeeded")
			}
		}
		if m.Current().Default.Policy.MaxReportAge != 15*time.Minute {
			t.Error("the active policy changed")
		}
		st, err := ReadStatus(t.Context(), e.st)
		if err != nil || st.LastError == "" {
			t.Errorf("status = %+v, %v; want the error", st, err)
		}
		n := 0
		for _, k := range e.kinds(t) {
			if k == audit.KindPolicyRejected {
				n++
			}
		}
		if n != 1 {
			t.Errorf("policy_rejected rows = %d, want 1", n)
		}
	})
	t.Run("a change that would deny too many devices is held and the old policy stays", func(t *testing.T) {
		e := newEnv(t, "max_report_age: 15m\n")
		m := e.manager(t)
		v := m.Current().Version
		e.impact = Impact{Active: 10, NewlyDenied: 3, Share: 0.3}
		e.write(t, "controls:\n  firewall:\n    enforcement: report\n")
		if err := m.Reload(t.Context()); !errors.Is(err, ErrHeld) {
			t.Fatalf("err = %v, want ErrHeld", err)
		}
		if m.Current().Version != v || firewall(m) != checks.EnforceBlock {
			t.Error("the held change was applied")
		}
		st, err := ReadStatus(t.Context(), e.st)
		if err != nil || st.Held == nil || st.Held.Impact.NewlyDenied != 3 {
			t.Fatalf("status = %+v, %v; want the held change", st, err)
		}
		t.Run("and accepting it applies it on the next reload", func(t *testing.T) {
			if err := Accept(t.Context(), e.st, e.log, st.Held.Hash, "carol", t0); err != nil {
				t.Fatal(err)
			}
			if err := m.Reload(t.Context()); err != nil {
				t.Fatal(err)
			}
			if firewall(m) != checks.EnforceReport || m.Status().Held != nil {
				t.Errorf("after accept: enforcement %s, held %+v", firewall(m), m.Status().Held)
			}
		})
		t.Run("and the hold is audited", func(t *testing.T) {
			found := false
			for _, k := range e.kinds(t) {
				found = found || k == audit.KindPolicyHeld
			}
			if !found {
				t.Error("no policy_held row")
			}
		})
	})
	t.Run("a change within the allowed share is applied", func(t *testing.T) {
		e := newEnv(t, "max_report_age: 15m\n")
		m := e.manager(t)
		e.impact = Impact{Active: 10, NewlyDenied: 2, Share: 0.2}
		e.write(t, "max_report_age: 10m\n")
		if err := m.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("accepting a hash that is not held is refused", func(t *testing.T) {
		e := newEnv(t, "")
		e.manager(t)
		if err := Accept(t.Context(), e.st, e.log, "abc", "carol", t0); err == nil {
			t.Error("accept succeeded")
		}
	})
	t.Run("a change made while the server was stopped is guarded at start", func(t *testing.T) {
		e := newEnv(t, "max_report_age: 15m\n")
		m := e.manager(t)
		v := m.Current().Version
		e.impact = Impact{Active: 4, NewlyDenied: 4, Share: 1}
		e.write(t, "max_report_age: 1m\n")
		m2 := e.manager(t)
		if m2.Current().Version != v || m2.Current().Default.Policy.MaxReportAge != 15*time.Minute || m2.Status().Held == nil {
			t.Errorf("restart applied the change: version %d, status %+v", m2.Current().Version, m2.Status())
		}
	})
	t.Run("versions keep increasing across restarts", func(t *testing.T) {
		e := newEnv(t, "max_report_age: 15m\n")
		e.manager(t)
		e.write(t, "max_report_age: 16m\n")
		m2 := e.manager(t)
		if m2.Current().Version != 2 {
			t.Errorf("version = %d, want 2", m2.Current().Version)
		}
	})
	t.Run("a file invalid at first start is an error", func(t *testing.T) {
		e := newEnv(t, "nonsense: 1\n")
		_, err := NewManager(t.Context(), Config{Path: e.path, Store: e.st})
		if err == nil {
			t.Error("NewManager succeeded")
		}
	})
	t.Run("watch reloads on a signal", func(t *testing.T) {
		e := newEnv(t, "max_report_age: 15m\n")
		changed := make(chan uint64, 1)
		m, err := NewManager(t.Context(), Config{Path: e.path, Store: e.st, OnChange: func(s *Set) { changed <- s.Version }})
		if err != nil {
			t.Fatal(err)
		}
		<-changed
		hup := make(chan os.Signal, 1)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go m.Watch(ctx, time.Hour, hup)
		e.write(t, "max_report_age: 20m\n")
		hup <- os.Interrupt
		if v := <-changed; v != 2 {
			t.Errorf("version = %d, want 2", v)
		}
	})
}

func TestReplicasApplyAPolicyOnce(t *testing.T) {
	e := newEnv(t, "max_report_age: 15m\n")
	a, b := e.manager(t), e.manager(t)
	e.write(t, "controls:\n  firewall:\n    enforcement: report\n")
	if err := a.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if a.Current().Version != b.Current().Version || firewall(b) != checks.EnforceReport {
		t.Errorf("replica b is at version %d (%s), replica a at %d", b.Current().Version, firewall(b), a.Current().Version)
	}
	applied := 0
	for _, k := range e.kinds(t) {
		if k == audit.KindPolicyApplied {
			applied++
		}
	}
	// One for the first start, one for the change: the second replica
	// adopted both.
	if applied != 2 {
		t.Errorf("policy_applied recorded %d times, want 2: %v", applied, e.kinds(t))
	}
	// a applied version 1 at its start (b started on it), then both
	// switched to version 2.
	if fmt.Sprint(e.changes) != "[1 2 2]" {
		t.Errorf("OnChange versions = %v, want [1 2 2]", e.changes)
	}
}
