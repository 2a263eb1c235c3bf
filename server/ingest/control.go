package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/postern-dev/postern/checks"
	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// maxAgentVersion bounds the version string an agent may have stored.
const maxAgentVersion = 64

// agentVersionField is the version as stored: printable ASCII, bounded,
// so that a hostile agent cannot fill a column or a dashboard cell.
func agentVersionField(v string) string {
	if len(v) > maxAgentVersion {
		v = v[:maxAgentVersion]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '?'
		}
		return r
	}, v)
}

func (s *Server) control(st *stream, peer *x509.Certificate, hello *pb.Hello) {
	agentVersion := hello.GetSoftwareVersion()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	dev, err := s.cfg.Store.DeviceByCert(ctx, ca.Fingerprint(peer.Raw))
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound):
		st.refuse(CodeDeviceUnknown, "this certificate belongs to no enrolled device", 0, "cert_cn", peer.Subject.CommonName)
		return
	case err != nil:
		st.log.Error("look up device failed", "err", err)
		st.refuse(CodeInternal, "the server could not look up the device; retry later", 0)
		return
	case dev.Revoked():
		st.refuse(CodeDeviceRevoked, "this device's enrollment was revoked", 0, "device_id", dev.ID)
		return
	}
	if decision.Inactive(dev.LastSeenAt, s.now()) {
		st.refuse(CodeDeviceInactive, "this device has not reported for more than 90 days; enroll it again", 0, "device_id", dev.ID)
		return
	}
	st.log = st.log.With("device_id", dev.ID)
	if !s.agentProven(st, dev, hello) {
		return
	}
	// The version the agent runs now, for the minimum agent version: a
	// write only when it changed (an upgrade), not on every connection.
	if v := agentVersionField(agentVersion); v != dev.AgentVersion {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err := s.cfg.Store.SetAgentVersion(ctx, dev.ID, v)
		cancel()
		if err != nil {
			st.log.Error("record agent version failed", "err", err)
		} else {
			st.log.Info("agent version changed", "from", dev.AgentVersion, "to", v)
		}
	}
	cs := &controlStream{st: st}
	if err := cs.send(s.controlHello()); err != nil {
		return
	}
	s.live.add(dev.ID, cs)
	defer s.live.remove(dev.ID, cs)
	s.greet(cs, peer, dev.Org)
	for {
		env, err := st.read(controlIdleTimeout)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || !quietEnd(err) {
				cs.mu.Lock()
				st.abort(err)
				cs.mu.Unlock()
			}
			return
		}
		var reply *pb.Envelope
		switch m := env.Msg.(type) {
		case *pb.Envelope_Report:
			if s.isRevoked(dev.ID) {
				cs.send(errorEnvelope(CodeDeviceRevoked, "this device's enrollment was revoked", m.Report.GetSequence()))
				return
			}
			reply = s.ingest(st, dev, m.Report)
		case *pb.Envelope_Renew:
			if m.Renew.GetTpm() != nil {
				// The challenge and the proof are exchanged here, on
				// the control stream, before the answer.
				reply = s.renewAttested(cs, dev, peer, m.Renew)
			} else {
				reply = s.renew(st, dev, peer, m.Renew)
			}
		case *pb.Envelope_Attestation:
			reply = s.attest(st, dev.ID, m.Attestation)
		default:
			reply = errorEnvelope(CodeBadRequest, "unexpected message on the control stream", 0)
		}
		if e := reply.GetError(); e != nil {
			st.log.Info("request refused", "code", e.Code, "detail", e.Message, "sequence", e.Sequence)
		}
		if err := cs.send(reply); err != nil {
			st.log.Debug("send reply failed", "err", err)
			return
		}
	}
}

// greet sends what a freshly connected agent should know: the policy, and
// a renewal request when its certificate nears expiry.
func (s *Server) greet(cs *controlStream, peer *x509.Certificate, org string) {
	if _, y := s.policyFor(org); len(y) > 0 {
		cs.send(&pb.Envelope{Msg: &pb.Envelope_Command{Command: &pb.Command{Cmd: &pb.Command_Policy{Policy: &pb.PolicyUpdate{PolicyYaml: y}}}}})
	}
	if peer.NotAfter.Sub(s.now()) < renewBefore {
		cs.send(&pb.Envelope{Msg: &pb.Envelope_Command{Command: &pb.Command{Cmd: &pb.Command_Renew{Renew: &pb.RenewCertificate{NotAfterUnix: peer.NotAfter.Unix()}}}}})
	}
}

// controlHello opens a device's control stream: the server's version,
// the replica set and the gateway URL (present even when empty, so that a
// setting removed reaches the agents too).
func (s *Server) controlHello() *pb.Envelope {
	env := helloEnvelope(s.cfg.SoftwareVersion, s.cfg.Servers)
	env.GetHello().GatewayUrl = &s.cfg.GatewayURL
	return env
}

func helloEnvelope(version string, servers []string) *pb.Envelope {
	return &pb.Envelope{Msg: &pb.Envelope_Hello{Hello: &pb.Hello{ProtocolVersion: pb.ProtocolVersion, SoftwareVersion: version, Servers: servers}}}
}

func errorEnvelope(code, msg string, seq uint64) *pb.Envelope {
	return &pb.Envelope{Msg: &pb.Envelope_Error{Error: &pb.Error{Code: code, Message: msg, Sequence: seq}}}
}

// ingest validates and commits one report and returns the Ack or Error.
func (s *Server) ingest(st *stream, dev store.Device, w *pb.Report) *pb.Envelope {
	deviceID := dev.ID
	seq := w.GetSequence()
	if seq == 0 || seq > math.MaxInt64 {
		return errorEnvelope(CodeBadReport, "sequence must be between 1 and 2^63-1", seq)
	}
	r, err := checks.FromWire(w)
	if err != nil {
		return errorEnvelope(CodeBadReport, err.Error(), seq)
	}
	canon, err := proto.MarshalOptions{Deterministic: true}.Marshal(w)
	if err != nil {
		return errorEnvelope(CodeBadReport, "the report cannot be encoded", seq)
	}
	sum := sha256.Sum256(canon)
	body, err := encodeBody(r)
	if err != nil {
		return errorEnvelope(CodeBadReport, "the report cannot be encoded", seq)
	}
	now := s.now()
	var pol *checks.Policy
	var ev decision.Evaluated
	if s.cfg.Evaluate != nil {
		pol, ev = s.cfg.Evaluate(dev.Org, r, now)
	} else {
		pol, _ = s.policyFor(dev.Org)
		ev.Verdicts = checks.Evaluate(r, pol, now)
	}
	failing := decision.Failing(ev.Verdicts, pol)
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	dup, err := s.cfg.Store.IngestReport(ctx, store.Ingest{
		Report: store.Report{DeviceID: deviceID, Sequence: seq, Hash: hex.EncodeToString(sum[:]),
			CollectedAt: r.CollectedAt, ReceivedAt: now, Body: body},
		Info:    r.Device,
		Failing: failing,
	})
	switch {
	case errors.Is(err, store.ErrSequenceReplayed):
		return errorEnvelope(CodeSequenceReplayed, "the sequence is not above the last stored report's", seq)
	case errors.Is(err, store.ErrDeviceRevoked):
		return errorEnvelope(CodeDeviceRevoked, "this device's enrollment was revoked", seq)
	case errors.Is(err, store.ErrNotFound):
		return errorEnvelope(CodeDeviceUnknown, "this device is no longer enrolled", seq)
	case err != nil:
		st.log.Error("store report failed", "sequence", seq, "err", err)
		return errorEnvelope(CodeInternal, "the server could not store the report; retry later", seq)
	}
	st.log.Debug("report stored", "sequence", seq, "duplicate", dup, "failing", len(failing))
	if !dup && s.cfg.OnReport != nil {
		s.cfg.OnReport(deviceID)
	}
	ack := &pb.Ack{Sequence: seq, Duplicate: dup}
	if s.cfg.Decision != nil {
		// The report is committed; an ack without the decision is still
		// an ack, so a failure here only costs the agent its display.
		if dup {
			ev = decision.Evaluated{}
		} else {
			ev.Sequence = seq
		}
		if d, err := s.cfg.Decision(ctx, deviceID, ev); err == nil {
			ack.Decision = decision.ToWire(d)
		} else {
			st.log.Warn("decide for the ack failed", "sequence", seq, "err", err)
		}
	}
	return &pb.Envelope{Msg: &pb.Envelope_Ack{Ack: ack}}
}

// renew signs a new certificate for the device. A device whose key was
// attested to be in a TPM must renew for that same key: the TLS handshake
// of this connection proved the device holds it, and the attestation at
// enrollment proved it cannot leave the TPM, so the new certificate stays
// hardware-bound. A CSR for another key would swap in an unattested one.
func (s *Server) renew(st *stream, dev store.Device, peer *x509.Certificate, req *pb.RenewRequest) *pb.Envelope {
	return s.issueRenewal(st, dev, peer, req.GetCsrDer(), false)
}

// issueRenewal signs and records the renewed certificate; reattested
// says the TPM proved again, in this renewal, that it holds the key.
func (s *Server) issueRenewal(st *stream, dev store.Device, peer *x509.Certificate, csrDER []byte, reattested bool) *pb.Envelope {
	deviceID := dev.ID
	now := s.now()
	req := &pb.RenewRequest{CsrDer: csrDER}
	if dev.KeyKind == store.KeyHardware {
		if err := sameKey(req.GetCsrDer(), peer); err != nil {
			return errorEnvelope(CodeBadKeyAttestation, err.Error(), 0)
		}
	}
	cert, err := s.cfg.CA.SignCSR(req.GetCsrDer(), deviceID, now, now.Add(ca.DeviceLifetime))
	if err != nil {
		return errorEnvelope(CodeBadRequest, err.Error(), 0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := s.cfg.Store.RenewCert(ctx, deviceID, ca.Fingerprint(cert.Raw), cert.NotAfter); err != nil {
		st.log.Error("store renewed certificate failed", "err", err)
		return errorEnvelope(CodeInternal, "the server could not store the certificate; retry later", 0)
	}
	st.log.Info("device certificate renewed", "not_after", cert.NotAfter)
	s.record(audit.Entry{Actor: audit.ActorAgent, Kind: audit.KindCertRenewed, DeviceID: deviceID,
		Details: map[string]any{"cert_sha256": ca.Fingerprint(cert.Raw), "not_after": cert.NotAfter, "key_reattested": reattested}})
	return &pb.Envelope{Msg: &pb.Envelope_Renewed{Renewed: &pb.RenewResponse{CertificateDer: cert.Raw}}}
}
