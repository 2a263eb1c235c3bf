package client

import (
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"google.golang.org/protobuf/proto"

	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// sessionHandler does the Hello exchange, then calls script for every
// message the agent sends after it.
func sessionHandler(t *testing.T, first []*pb.Envelope, script func(str *quic.Stream, env *pb.Envelope) bool) func(*quic.Stream) {
	return func(str *quic.Stream) {
		if env, err := pb.ReadMsg(str); err != nil || env.GetHello() == nil {
			t.Errorf("responder: first message %v, %v", env, err)
			return
		}
		for _, env := range first {
			send(t, str, env)
		}
		if script == nil {
			return
		}
		for {
			env, err := pb.ReadMsg(str)
			if err != nil {
				return
			}
			if !script(str, env) {
				return
			}
		}
	}
}

func report(seq uint64) *pb.Report {
	return &pb.Report{Sequence: seq, CollectedAtUnixNano: clock.Now().UnixNano(), Device: &pb.DeviceInfo{Hostname: "laptop-7"}}
}

func dialTest(t *testing.T, pki *testPKI, r *responder) (*Session, error) {
	s, err := Dial(testCtx(t), SessionConfig{Addr: r.addr, Certificate: pki.deviceCert(t, "dev-1"), CA: pki.ca})
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

func TestSessionSend(t *testing.T) {
	pki := newPKI(t)
	tests := []struct {
		name     string
		reply    func(seq uint64) []*pb.Envelope
		wantAck  *pb.Ack
		wantCode string
	}{
		{"an ack of the report's sequence completes the send", func(seq uint64) []*pb.Envelope { return []*pb.Envelope{ackEnv(seq, false)} }, &pb.Ack{Sequence: 5}, ""},
		{"a stale ack for an earlier sequence is skipped", func(seq uint64) []*pb.Envelope { return []*pb.Envelope{ackEnv(seq-1, false), ackEnv(seq, false)} }, &pb.Ack{Sequence: 5}, ""},
		{"a retransmission's duplicate ack is returned as such", func(seq uint64) []*pb.Envelope { return []*pb.Envelope{ackEnv(seq, true)} }, &pb.Ack{Sequence: 5, Duplicate: true}, ""},
		{"a refused report is a server error with its code", func(seq uint64) []*pb.Envelope { return []*pb.Envelope{errEnv(CodeSequenceReplayed, seq)} }, nil, CodeSequenceReplayed},
		{"an error about another report is skipped", func(seq uint64) []*pb.Envelope {
			return []*pb.Envelope{errEnv(CodeBadReport, seq-2), ackEnv(seq, false)}
		}, &pb.Ack{Sequence: 5}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotc := make(chan *pb.Report, 1)
			r := startResponder(t, pki.serverCert(t, false), pki.ca, sessionHandler(t, []*pb.Envelope{hello()}, func(str *quic.Stream, env *pb.Envelope) bool {
				gotc <- env.GetReport()
				for _, e := range tt.reply(env.GetReport().GetSequence()) {
					send(t, str, e)
				}
				return true
			}))
			s, err := dialTest(t, pki, r)
			if err != nil {
				t.Fatal(err)
			}
			ack, err := s.Send(testCtx(t), report(5))
			if tt.wantCode != "" {
				var se *ServerError
				if !errors.As(err, &se) || se.Code != tt.wantCode || se.Sequence != 5 {
					t.Fatalf("err = %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(ack, tt.wantAck) {
				t.Errorf("ack = %v, want %v", ack, tt.wantAck)
			}
			if got := <-gotc; got.GetDevice().GetHostname() != "laptop-7" {
				t.Errorf("server got %v", got)
			}
		})
	}
	t.Run("the server sees the device certificate", func(t *testing.T) {
		r := startResponder(t, pki.serverCert(t, false), pki.ca, sessionHandler(t, []*pb.Envelope{hello()}, func(str *quic.Stream, env *pb.Envelope) bool {
			send(t, str, ackEnv(env.GetReport().GetSequence(), false))
			return true
		}))
		s, err := dialTest(t, pki, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(testCtx(t), report(1)); err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.peers) == 0 || r.peers[0].Subject.CommonName != "dev-1" {
			t.Errorf("peer certificates = %v", r.peers)
		}
	})
}

func TestSessionCommandsAndEnd(t *testing.T) {
	pki := newPKI(t)
	t.Run("commands sent at any time reach the Commands channel in order", func(t *testing.T) {
		cmds := []*pb.Envelope{
			{Msg: &pb.Envelope_Command{Command: &pb.Command{Cmd: &pb.Command_Recheck{Recheck: &pb.RecheckNow{Reason: "policy changed"}}}}},
			{Msg: &pb.Envelope_Command{Command: &pb.Command{Cmd: &pb.Command_Policy{Policy: &pb.PolicyUpdate{PolicyYaml: []byte("unknown: allow\n")}}}}},
		}
		r := startResponder(t, pki.serverCert(t, false), pki.ca, sessionHandler(t, append([]*pb.Envelope{hello()}, cmds...), func(*quic.Stream, *pb.Envelope) bool { return true }))
		s, err := dialTest(t, pki, r)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range cmds {
			select {
			case got := <-s.Commands():
				if !proto.Equal(got, want.GetCommand()) {
					t.Errorf("command %d = %v, want %v", i, got, want.GetCommand())
				}
			case <-s.Done():
				t.Fatalf("session ended: %v", s.Err())
			case <-time.After(10 * time.Second):
				t.Fatal("no command")
			}
		}
	})
	t.Run("a renewal returns the server's certificate", func(t *testing.T) {
		r := startResponder(t, pki.serverCert(t, false), pki.ca, sessionHandler(t, []*pb.Envelope{hello()}, func(str *quic.Stream, env *pb.Envelope) bool {
			if env.GetRenew() == nil {
				t.Errorf("got %v", env)
			}
			send(t, str, &pb.Envelope{Msg: &pb.Envelope_Renewed{Renewed: &pb.RenewResponse{CertificateDer: []byte("new cert")}}})
			return true
		}))
		s, err := dialTest(t, pki, r)
		if err != nil {
			t.Fatal(err)
		}
		der, err := s.Renew(testCtx(t), []byte("csr"))
		if err != nil || string(der) != "new cert" {
			t.Fatalf("Renew = %q, %v", der, err)
		}
	})
	t.Run("a send after the server closed the stream fails and Done is closed", func(t *testing.T) {
		r := startResponder(t, pki.serverCert(t, false), pki.ca, sessionHandler(t, []*pb.Envelope{hello(), errEnv(CodeDeviceRevoked, 0)}, nil))
		s, err := dialTest(t, pki, r)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("session did not end")
		}
		var se *ServerError
		if !errors.As(s.Err(), &se) || se.Code != CodeDeviceRevoked {
			t.Errorf("Err = %v, want the server's device_revoked", s.Err())
		}
		if _, err := s.Send(testCtx(t), report(1)); err == nil {
			t.Error("send on an ended session succeeded")
		}
	})
}

func TestDialRefusals(t *testing.T) {
	pki := newPKI(t)
	other := newPKI(t)
	t.Run("a device refused at hello gets the server's permanent error", func(t *testing.T) {
		r := startResponder(t, pki.serverCert(t, false), pki.ca, sessionHandler(t, []*pb.Envelope{errEnv(CodeDeviceRevoked, 0)}, func(*quic.Stream, *pb.Envelope) bool { return false }))
		_, err := dialTest(t, pki, r)
		var se *ServerError
		if !errors.As(err, &se) || se.Code != CodeDeviceRevoked || !se.Permanent() {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a server that does not chain to the stored CA is refused", func(t *testing.T) {
		r := startResponder(t, other.serverCert(t, true), pki.ca, sessionHandler(t, []*pb.Envelope{hello()}, func(*quic.Stream, *pb.Envelope) bool { return false }))
		_, err := dialTest(t, pki, r)
		if !errors.Is(err, ErrUntrustedServer) {
			t.Fatalf("err = %v, want ErrUntrustedServer", err)
		}
		if r.streamCount() != 0 {
			t.Error("a stream reached the untrusted server")
		}
	})
	t.Run("a server speaking another protocol version is refused", func(t *testing.T) {
		v2 := &pb.Envelope{Msg: &pb.Envelope_Hello{Hello: &pb.Hello{ProtocolVersion: 2}}}
		r := startResponder(t, pki.serverCert(t, false), pki.ca, sessionHandler(t, []*pb.Envelope{v2}, func(*quic.Stream, *pb.Envelope) bool { return false }))
		if _, err := dialTest(t, pki, r); !errors.Is(err, ErrProtocol) {
			t.Fatalf("err = %v, want ErrProtocol", err)
		}
	})
	t.Run("missing credentials are refused before dialing", func(t *testing.T) {
		if _, err := Dial(testCtx(t), SessionConfig{Addr: "127.0.0.1:1", CA: &x509.Certificate{}}); err == nil {
			t.Fatal("no error")
		}
	})
}
