package ingest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

// goodAgentWorks proves the server still serves a well-behaved agent.
func (e *env) goodAgentWorks() {
	e.t.Helper()
	d := e.enroll()
	c := e.control(d)
	defer c.close()
	if ack := c.report(wireReport(1, "good")).GetAck(); ack == nil || ack.Sequence != 1 {
		e.t.Fatalf("good agent's report not acked")
	}
}

func errorCode(env *pb.Envelope) string { return env.GetError().GetCode() }

func TestEnroll(t *testing.T) {
	e := start(t, "", nil)
	d := e.enroll()
	t.Run("the certificate names the device and chains to the CA", func(t *testing.T) {
		cert, err := x509.ParseCertificate(d.cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if cert.Subject.CommonName != d.id {
			t.Errorf("CN %q, device %q", cert.Subject.CommonName, d.id)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: e.ca.Pool(), CurrentTime: clock.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Error(err)
		}
	})
	t.Run("the device is stored with the token's labels", func(t *testing.T) {
		got, err := e.store.DeviceByCert(context.Background(), ca.Fingerprint(d.cert.Certificate[0]))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != d.id || got.Org != "clinic" || got.Owner != "alice" || got.Info.Hostname != "laptop-1" {
			t.Errorf("device = %+v", got)
		}
	})
}

func TestEnrollRefusals(t *testing.T) {
	e := start(t, "", func(c *Config) { c.EnrollFailures = 100 })
	used := e.token(time.Hour)
	if resp, _ := e.tryEnroll(used); resp.GetEnrolled() == nil {
		t.Fatalf("first use refused: %v", resp)
	}
	expired := e.token(time.Minute)
	e.clock.Add(2 * time.Minute)
	other, _ := ca.LoadOrCreate(t.TempDir(), clock.Now())
	foreign, _, _ := store.NewEnrollToken(other.Pin(), time.Hour, "", "", clock.Now())
	unknown, _, _ := store.NewEnrollToken(e.ca.Pin(), time.Hour, "", "", clock.Now())
	tests := []struct {
		name, token, want string
	}{
		{"a used token is refused", used, CodeTokenUsed},
		{"an expired token is refused", expired, CodeTokenExpired},
		{"a token the server never issued is refused", unknown, CodeTokenInvalid},
		{"a token pinning another CA is refused", foreign, CodeTokenInvalid},
		{"a malformed token is refused", "pt1.nope", CodeTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := e.tryEnroll(tt.token)
			if got := errorCode(resp); got != tt.want {
				t.Fatalf("code %q, want %q (%v)", got, tt.want, resp)
			}
			e.goodAgentWorks()
		})
	}
	t.Run("a bad CSR is refused", func(t *testing.T) {
		c := e.open(nil)
		defer c.close()
		c.send(hello())
		c.send(enrollRequest(e.token(time.Hour), []byte("not a csr")))
		c.mustRecv()
		if got := errorCode(c.mustRecv()); got != CodeBadRequest {
			t.Fatalf("code %q", got)
		}
	})
}

func TestEnrollRateLimit(t *testing.T) {
	e := start(t, "", func(c *Config) { c.EnrollFailures = 2; c.EnrollFailureTick = time.Minute })
	bad, _, _ := store.NewEnrollToken(e.ca.Pin(), time.Hour, "", "", clock.Now())
	steps := []struct {
		name    string
		advance time.Duration
		good    bool
		want    string
	}{
		{"the first failure is answered", 0, false, CodeTokenInvalid},
		{"the second failure is answered", 0, false, CodeTokenInvalid},
		{"the next attempt is rate limited", 0, false, CodeRateLimited},
		{"even a valid token is rate limited", 0, true, CodeRateLimited},
		{"after a tick a valid token enrolls", time.Minute, true, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e.clock.Add(st.advance)
			tok := bad
			if st.good {
				tok = e.token(time.Hour)
			}
			resp, _ := e.tryEnroll(tok)
			if got := errorCode(resp); got != st.want {
				t.Fatalf("code %q, want %q", got, st.want)
			}
		})
	}
}

func TestReports(t *testing.T) {
	e := start(t, "", nil)
	d := e.enroll()
	c := e.control(d)
	defer c.close()
	first := wireReport(1, "a")
	steps := []struct {
		name string
		env  *pb.Envelope
		want *pb.Envelope
	}{
		{"the first report is acked", first, &pb.Envelope{Msg: &pb.Envelope_Ack{Ack: &pb.Ack{Sequence: 1}}}},
		{"an identical retransmission is acked as a duplicate", first, &pb.Envelope{Msg: &pb.Envelope_Ack{Ack: &pb.Ack{Sequence: 1, Duplicate: true}}}},
		{"the same sequence with other content is replayed", wireReport(1, "b"), errorEnvelope(CodeSequenceReplayed, "", 1)},
		{"a higher sequence is acked", wireReport(4, "c"), &pb.Envelope{Msg: &pb.Envelope_Ack{Ack: &pb.Ack{Sequence: 4}}}},
		{"a lower sequence is replayed", wireReport(3, "d"), errorEnvelope(CodeSequenceReplayed, "", 3)},
		{"sequence zero is a bad report", wireReport(0, "e"), errorEnvelope(CodeBadReport, "", 0)},
		{"an unknown control is a bad report", func() *pb.Envelope {
			env := wireReport(9, "f")
			env.GetReport().Controls[0].Id = "telepathy"
			return env
		}(), errorEnvelope(CodeBadReport, "", 9)},
		{"a second Hello is a bad request", hello(), errorEnvelope(CodeBadRequest, "", 0)},
		{"the stream still works after refusals", wireReport(5, "g"), &pb.Envelope{Msg: &pb.Envelope_Ack{Ack: &pb.Ack{Sequence: 5}}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got := c.report(st.env)
			if diff := cmp.Diff(st.want, got, protocmp.Transform(), protocmp.IgnoreFields(&pb.Error{}, "message")); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("each stored report is in the history once", func(t *testing.T) {
		h, err := e.store.History(context.Background(), d.id, 0)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, r := range h {
			seqs = append(seqs, r.Sequence)
		}
		if diff := cmp.Diff([]uint64{5, 4, 1}, seqs); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})
}

func TestControlStreamRefusals(t *testing.T) {
	e := start(t, "", nil)
	t.Run("a report without a certificate needs one", func(t *testing.T) {
		c := e.open(nil)
		defer c.close()
		c.send(hello())
		c.mustRecv()
		if got := errorCode(c.report(wireReport(1, "x"))); got != CodeCertificateRequired {
			t.Fatalf("code %q", got)
		}
		e.goodAgentWorks()
	})
	t.Run("an unsupported protocol version is refused", func(t *testing.T) {
		c := e.open(nil)
		defer c.close()
		c.send(&pb.Envelope{Msg: &pb.Envelope_Hello{Hello: &pb.Hello{ProtocolVersion: 99}}})
		if got := errorCode(c.mustRecv()); got != CodeUnsupportedVersion {
			t.Fatalf("code %q", got)
		}
		e.goodAgentWorks()
	})
	t.Run("a revoked device is refused at the handshake", func(t *testing.T) {
		d := e.enroll()
		if err := e.store.Revoke(context.Background(), d.id, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := e.handshakeRefused(&d.cert); err != nil {
			t.Fatal(err)
		}
		e.goodAgentWorks()
	})
	t.Run("a certificate from another CA never reaches a control stream", func(t *testing.T) {
		other, err := ca.LoadOrCreate(t.TempDir(), clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		key, csr := newCSR(t)
		cert, err := other.SignCSR(csr, "impostor", clock.Now(), clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		tc := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
		if err := e.controlFails(&tc); err != nil {
			t.Fatal(err)
		}
		e.goodAgentWorks()
	})
}

// controlFails checks that a client with cert cannot complete the control
// Hello: the handshake, the stream or the answer must fail.
func (e *env) controlFails(cert *tls.Certificate) error {
	conn, err := e.dial(cert)
	if err != nil {
		return nil // refused at the handshake
	}
	defer conn.CloseWithError(0, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil
	}
	if err := pb.WriteMsg(str, hello()); err != nil {
		return nil
	}
	str.SetReadDeadline(time.Now().Add(10 * time.Second))
	env, err := pb.ReadMsg(str)
	if err != nil {
		if isStreamOrConnError(err) {
			return nil
		}
		return err
	}
	if env.GetHello() != nil {
		return errors.New("server accepted the control stream")
	}
	return nil
}

func TestMalformedStreams(t *testing.T) {
	e := start(t, "", nil)
	huge := make([]byte, 4)
	binary.BigEndian.PutUint32(huge, pb.MaxFrameSize+1)
	noise := make([]byte, 4096)
	rand.Read(noise)
	binary.BigEndian.PutUint32(noise, 1000) // a plausible length with garbage inside
	tests := []struct {
		name  string
		bytes []byte
	}{
		{"an oversized frame header", huge},
		{"a stream of random bytes", noise},
		{"an empty frame", []byte{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		for _, authed := range []bool{false, true} {
			name := tt.name + " is refused before enrollment"
			if authed {
				name = tt.name + " is refused on a control stream"
			}
			t.Run(name, func(t *testing.T) {
				var c *client
				if authed {
					c = e.control(e.enroll())
				} else {
					c = e.open(nil)
				}
				defer c.close()
				// The server may reset the stream before the client has
				// written everything: that is a refusal too.
				_, err := c.str.Write(tt.bytes)
				if err != nil && !isStreamOrConnError(err) {
					t.Fatal(err)
				}
				var env *pb.Envelope
				if err == nil {
					env, err = c.recv()
				}
				if err == nil && errorCode(env) != CodeBadRequest {
					t.Fatalf("answer %v, want bad_request or a reset", env)
				}
				if err != nil && !isStreamOrConnError(err) {
					t.Fatalf("err = %v", err)
				}
				e.goodAgentWorks()
			})
		}
	}
}

func TestRecheck(t *testing.T) {
	e := start(t, "", nil)
	d := e.enroll()
	t.Run("a device that is not connected cannot be asked", func(t *testing.T) {
		if err := e.srv.Recheck(d.id); !errors.Is(err, ErrNotConnected) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a connected agent receives the command", func(t *testing.T) {
		c := e.control(d)
		defer c.close()
		if !e.srv.Connected(d.id) {
			t.Fatal("device not registered")
		}
		if err := e.srv.Recheck(d.id); err != nil {
			t.Fatal(err)
		}
		if c.mustRecv().GetCommand().GetRecheck() == nil {
			t.Fatal("no recheck command")
		}
		if ack := c.report(wireReport(1, "after")).GetAck(); ack == nil {
			t.Fatal("report after recheck not acked")
		}
	})
}

func TestRenew(t *testing.T) {
	e := start(t, "", nil)
	d := e.enroll()
	c := e.control(d)
	defer c.close()
	key, csr := newCSR(t)
	resp := c.report(&pb.Envelope{Msg: &pb.Envelope_Renew{Renew: &pb.RenewRequest{CsrDer: csr}}})
	der := resp.GetRenewed().GetCertificateDer()
	if der == nil {
		t.Fatalf("answer %v", resp)
	}
	c.close()
	t.Run("the renewed certificate opens a control stream", func(t *testing.T) {
		nc := e.control(device{id: d.id, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, secret: d.secret})
		defer nc.close()
	})
	t.Run("the old certificate no longer does", func(t *testing.T) {
		old := e.open(&d.cert)
		defer old.close()
		old.send(hello())
		if got := errorCode(old.mustRecv()); got != CodeDeviceUnknown {
			t.Fatalf("code %q", got)
		}
	})
}

func TestRestartKeepsDevices(t *testing.T) {
	dir := t.TempDir()
	first := start(t, dir, nil)
	d := first.enroll()
	c := first.control(d)
	if ack := c.report(wireReport(3, "before")).GetAck(); ack == nil {
		t.Fatal("not acked")
	}
	c.close()
	first.srv.Close()

	second := start(t, dir, nil)
	c2 := second.control(d)
	defer c2.close()
	if got := errorCode(c2.report(wireReport(2, "old"))); got != CodeSequenceReplayed {
		t.Errorf("old sequence after restart: code %q, want %q", got, CodeSequenceReplayed)
	}
	if ack := c2.report(wireReport(4, "after")).GetAck(); ack == nil {
		t.Error("new sequence after restart not acked")
	}
}
