package ingest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// attestRecorder is a fake OnAttestation that remembers what it recorded.
type attestRecorder struct {
	mu   sync.Mutex
	got  map[string][]*pb.Attestation
	fail error
}

func (r *attestRecorder) record(_ context.Context, deviceID string, a *pb.Attestation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if r.got == nil {
		r.got = map[string][]*pb.Attestation{}
	}
	r.got[deviceID] = append(r.got[deviceID], a)
	return nil
}

func (r *attestRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, as := range r.got {
		n += len(as)
	}
	return n
}

func startAttesting(t *testing.T) (*env, *attestRecorder) {
	rec := &attestRecorder{}
	return start(t, "", func(c *Config) { c.OnAttestation = rec.record }), rec
}

func goodAttestation(now time.Time) *pb.Attestation {
	return &pb.Attestation{User: "Dana Ruiz", StatementVersion: "2026-1", StatementSha256: make([]byte, 32), AcceptedAtUnix: now.Unix()}
}

func TestControlStreamAttestation(t *testing.T) {
	e, rec := startAttesting(t)
	d := e.enroll()
	c := e.control(d)
	defer c.close()
	t.Run("a valid attestation is recorded and echoed back", func(t *testing.T) {
		a := goodAttestation(e.clock.Now())
		got := c.report(&pb.Envelope{Msg: &pb.Envelope_Attestation{Attestation: a}})
		if diff := cmp.Diff(a, got.GetAttestation(), protocmp.Transform()); diff != "" {
			t.Fatalf("echo (-want +got):\n%s", diff)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if diff := cmp.Diff([]*pb.Attestation{a}, rec.got[d.id], protocmp.Transform()); diff != "" {
			t.Errorf("recorded (-want +got):\n%s", diff)
		}
	})
	t.Run("reports still get their acks after an attestation", func(t *testing.T) {
		if ack := c.report(wireReport(1, "laptop-1")).GetAck(); ack == nil || ack.Sequence != 1 {
			t.Fatalf("got %v, want ack 1", ack)
		}
	})
}

func TestHostileAttestationsAreRefused(t *testing.T) {
	e, rec := startAttesting(t)
	d := e.enroll()
	c := e.control(d)
	defer c.close()
	now := e.clock.Now()
	tests := []struct {
		name string
		edit func(a *pb.Attestation)
	}{
		{"an empty user", func(a *pb.Attestation) { a.User = "" }},
		{"a user over 256 bytes", func(a *pb.Attestation) { a.User = strings.Repeat("a", 257) }},
		{"a user with a control character", func(a *pb.Attestation) { a.User = "dana\nadmin" }},
		{"a user with surrounding spaces", func(a *pb.Attestation) { a.User = " dana" }},
		{"an empty statement version", func(a *pb.Attestation) { a.StatementVersion = "" }},
		{"a statement version with a slash", func(a *pb.Attestation) { a.StatementVersion = "../2026" }},
		{"a statement version over 32 bytes", func(a *pb.Attestation) { a.StatementVersion = strings.Repeat("1", 33) }},
		{"a short hash", func(a *pb.Attestation) { a.StatementSha256 = make([]byte, 31) }},
		{"a missing acceptance time", func(a *pb.Attestation) { a.AcceptedAtUnix = 0 }},
		{"an acceptance time in the future", func(a *pb.Attestation) { a.AcceptedAtUnix = now.Add(time.Hour).Unix() }},
		{"an acceptance time older than 30 days", func(a *pb.Attestation) { a.AcceptedAtUnix = now.Add(-31 * 24 * time.Hour).Unix() }},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused with bad_attestation", func(t *testing.T) {
			a := goodAttestation(now)
			tt.edit(a)
			got := c.report(&pb.Envelope{Msg: &pb.Envelope_Attestation{Attestation: a}})
			if got.GetError().GetCode() != CodeBadAttestation {
				t.Fatalf("got %v, want %s", got, CodeBadAttestation)
			}
		})
	}
	t.Run("a clock a little ahead is tolerated", func(t *testing.T) {
		a := goodAttestation(now.Add(time.Minute))
		if got := c.report(&pb.Envelope{Msg: &pb.Envelope_Attestation{Attestation: a}}); got.GetAttestation() == nil {
			t.Fatalf("got %v, want the echo", got)
		}
	})
	if n := rec.count(); n != 1 {
		t.Errorf("recorded %d attestations, want only the tolerated one", n)
	}
}

func TestCheckAttestationRefusesInvalidUTF8(t *testing.T) {
	// Protobuf refuses to encode it, so only a hand-made frame carries it.
	now := clock.Now()
	a := goodAttestation(now)
	a.User = "dana\xff"
	if err := checkAttestation(a, now); err == nil {
		t.Fatal("a user that is not UTF-8 was accepted")
	}
}

func TestAttestationRecorderFailure(t *testing.T) {
	rec := &attestRecorder{fail: errors.New("disk full")}
	e := start(t, "", func(c *Config) { c.OnAttestation = rec.record })
	c := e.control(e.enroll())
	defer c.close()
	got := c.report(&pb.Envelope{Msg: &pb.Envelope_Attestation{Attestation: goodAttestation(e.clock.Now())}})
	if got.GetError().GetCode() != CodeInternal {
		t.Fatalf("got %v, want %s so that the agent retries", got, CodeInternal)
	}
}

func TestEnrollWithAttestation(t *testing.T) {
	enrollWith := func(e *env, a *pb.Attestation) *pb.Envelope {
		c := e.open(nil)
		defer c.close()
		_, csr := newCSR(t)
		req := enrollRequest(e.token(time.Hour), csr)
		req.GetEnroll().Attestation = a
		c.send(hello())
		c.send(req)
		c.mustRecv()
		return c.mustRecv()
	}
	t.Run("the attestation is recorded for the new device", func(t *testing.T) {
		e, rec := startAttesting(t)
		a := goodAttestation(e.clock.Now())
		id := enrollWith(e, a).GetEnrolled().GetDeviceId()
		if id == "" {
			t.Fatal("not enrolled")
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if diff := cmp.Diff([]*pb.Attestation{a}, rec.got[id], protocmp.Transform()); diff != "" {
			t.Errorf("recorded (-want +got):\n%s", diff)
		}
	})
	t.Run("a hostile attestation refuses the enrollment without spending the token", func(t *testing.T) {
		e, rec := startAttesting(t)
		a := goodAttestation(e.clock.Now())
		a.StatementSha256 = nil
		tok := e.token(time.Hour)
		c := e.open(nil)
		_, csr := newCSR(t)
		req := enrollRequest(tok, csr)
		req.GetEnroll().Attestation = a
		c.send(hello())
		c.send(req)
		c.mustRecv()
		if got := c.mustRecv(); got.GetError().GetCode() != CodeBadAttestation {
			t.Fatalf("got %v, want %s", got, CodeBadAttestation)
		}
		c.close()
		if resp, _ := e.tryEnroll(tok); resp.GetEnrolled() == nil {
			t.Errorf("the token was spent: %v", resp)
		}
		if rec.count() != 0 {
			t.Error("a hostile attestation was recorded")
		}
	})
}
