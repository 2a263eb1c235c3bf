package state

import (
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func openTemp(t *testing.T) *Dir {
	t.Helper()
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAttestationState(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a := AttestationInfo{User: "Dana Ruiz", StatementVersion: "2026-1", StatementSHA256: make([]byte, 32), AcceptedAt: t0}
	b := a
	b.AcceptedAt = t0.Add(time.Hour)
	t.Run("a pending attestation is kept until recorded, then becomes the last one", func(t *testing.T) {
		d := openTemp(t)
		if err := d.SetPendingAttestation(a); err != nil {
			t.Fatal(err)
		}
		got, err := d.PendingAttestation()
		if err != nil || !got.Same(&a) {
			t.Fatalf("pending = %+v, %v", got, err)
		}
		if err := d.MarkAttestationRecorded(a, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.PendingAttestation(); got != nil {
			t.Errorf("still pending: %+v", got)
		}
		st, _ := d.LoadState()
		want := a
		want.RecordedAt = t0.Add(time.Minute)
		if diff := cmp.Diff(&want, st.LastAttestation); diff != "" {
			t.Errorf("last (-want +got):\n%s", diff)
		}
	})
	t.Run("recording an older attestation keeps a newer pending one", func(t *testing.T) {
		d := openTemp(t)
		if err := d.SetPendingAttestation(b); err != nil {
			t.Fatal(err)
		}
		if err := d.MarkAttestationRecorded(a, t0); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.PendingAttestation(); !got.Same(&b) {
			t.Errorf("pending = %+v, want the newer one", got)
		}
	})
	t.Run("the pending file is private to the agent", func(t *testing.T) {
		d := openTemp(t)
		if err := d.SetPendingAttestation(a); err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" {
			if m := mode(t, d.File(PendingAttestationFile)); m != 0o600 {
				t.Errorf("mode %o, want 600", m)
			}
		}
	})
}
