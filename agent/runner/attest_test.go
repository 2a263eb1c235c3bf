package runner

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/agent/attest"
	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/state"
	pb "github.com/postern-dev/postern/proto"
)

// attestingConn adds Attest to a fake connection; refuse answers with
// that error code instead of recording.
type attestingConn struct {
	Conn
	got    []*pb.Attestation
	refuse string
}

func (c *attestingConn) Attest(_ context.Context, a *pb.Attestation) error {
	if c.refuse != "" {
		return &client.ServerError{Code: c.refuse, Message: "refused"}
	}
	c.got = append(c.got, a)
	return nil
}

func TestPendingAttestationDelivery(t *testing.T) {
	tests := []struct {
		name        string
		refuse      string
		wantPending bool
		wantLast    bool
	}{
		{name: "a recorded attestation stops being pending and becomes the last one", wantLast: true},
		{name: "a refused attestation is dropped so that it does not block reports", refuse: client.CodeBadAttestation},
		{name: "an attestation the server could not store stays pending while reports go on", refuse: "internal_error", wantPending: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, srv := t.TempDir(), &fakeServer{}
			d, err := state.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			a, err := attest.New("Dana Ruiz", t0)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.SetPendingAttestation(attest.ToInfo(a)); err != nil {
				t.Fatal(err)
			}
			conn := &attestingConn{refuse: tt.refuse}
			r := newRunner(t, dir, srv, func(c *Config) {
				c.Clock = func() time.Time { return t0 }
				c.Dial = func(ctx context.Context) (Conn, error) {
					c, err := srv.dial(ctx)
					conn.Conn = c
					return conn, err
				}
			})
			_, err = r.Once(ctxTimeout(t, 100*time.Millisecond))
			if err != nil {
				t.Fatalf("Once: %v", err)
			}
			pending, err := d.PendingAttestation()
			if err != nil {
				t.Fatal(err)
			}
			if (pending != nil) != tt.wantPending {
				t.Errorf("pending = %+v, want pending %v", pending, tt.wantPending)
			}
			last := loadState(t, dir).LastAttestation
			if (last != nil) != tt.wantLast {
				t.Fatalf("last = %+v, want %v", last, tt.wantLast)
			}
			if tt.wantLast {
				want := attest.ToInfo(a)
				want.RecordedAt = t0
				if diff := cmp.Diff(&want, last); diff != "" {
					t.Errorf("last attestation (-want +got):\n%s", diff)
				}
				if len(conn.got) != 1 || len(srv.storedSeqs()) != 1 {
					t.Errorf("sent %d attestations and %d reports, want one each", len(conn.got), len(srv.storedSeqs()))
				}
			}
		})
	}
}
