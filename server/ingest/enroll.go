package ingest

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/postern-dev/postern/checks"
	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

func (s *Server) enroll(st *stream, agentVersion string) {
	if err := st.hello(); err != nil {
		return
	}
	env, err := st.read(enrollTimeout)
	if err != nil {
		if !quietEnd(err) {
			st.abort(err)
		}
		return
	}
	req := env.GetEnroll()
	if req == nil {
		if env.GetReport() != nil || env.GetRenew() != nil {
			st.refuse(CodeCertificateRequired, "connect with the device certificate to report", 0)
		} else {
			st.refuse(CodeBadRequest, "expected EnrollRequest", 0)
		}
		return
	}
	ip := sourceKey(st.conn.RemoteAddr())
	now := s.now()
	if s.limiter.blocked(ip, now) {
		st.refuse(CodeRateLimited, "too many failed enrollments from this address; wait and retry", 0)
		return
	}
	if a := req.GetAttestation(); a != nil {
		// Checked before the token is spent, so the agent can fix it.
		if err := checkAttestation(a, now); err != nil {
			s.limiter.fail(ip, now)
			st.refuse(CodeBadAttestation, err.Error(), 0)
			return
		}
	}
	csrDER, key := req.GetCsrDer(), store.KeySoftware
	if t := req.GetTpm(); t != nil {
		var ok bool
		if csrDER, key, ok = s.tpmEnroll(st, t, now); !ok {
			s.limiter.fail(ip, now)
			return
		}
	}
	code, msg, resp := s.tryEnroll(req, csrDER, key, agentVersion, now)
	if code != "" {
		s.limiter.fail(ip, now)
		st.refuse(code, msg, 0)
		return
	}
	// Audited before the agent hears of it, so no device exists unrecorded.
	s.record(audit.Entry{Actor: audit.ActorAgent, Kind: audit.KindEnrollment, DeviceID: resp.DeviceId,
		Details: map[string]any{"hostname": req.GetDevice().GetHostname(), "os": req.GetDevice().GetOs(), "key": key,
			"pending_approval": s.cfg.HoldEnrollments}})
	if a := req.GetAttestation(); a != nil {
		// The device exists now; a failure here leaves it without an
		// attestation (the decision says attestation_missing and the user
		// attests again) rather than failing an enrollment whose token is
		// spent.
		if err := s.recordAttestation(resp.DeviceId, a); err != nil {
			st.log.Error("record attestation failed", "device_id", resp.DeviceId, "err", err)
		}
	}
	if err := st.send(&pb.Envelope{Msg: &pb.Envelope_Enrolled{Enrolled: resp}}); err != nil {
		st.log.Warn("send enroll response failed", "device_id", resp.DeviceId, "err", err)
		return
	}
	st.log.Info("device enrolled", "device_id", resp.DeviceId, "hostname", req.GetDevice().GetHostname(), "key", key,
		"pending_approval", s.cfg.HoldEnrollments)
}

// tryEnroll returns the response, or an error code and message.
func (s *Server) tryEnroll(req *pb.EnrollRequest, csrDER []byte, key, agentVersion string, now time.Time) (string, string, *pb.EnrollResponse) {
	tok, err := pb.ParseEnrollToken(req.GetToken())
	if err != nil {
		return CodeTokenInvalid, "the enrollment token is malformed", nil
	}
	pin := s.cfg.CA.Pin()
	if subtle.ConstantTimeCompare(tok.CAPin[:], pin[:]) != 1 {
		return CodeTokenInvalid, "the enrollment token is for another server", nil
	}
	info, err := deviceInfo(req.GetDevice())
	if err != nil {
		return CodeBadRequest, err.Error(), nil
	}
	secret, err := pb.NewAgentSecret()
	if err != nil {
		s.log.Error("make agent secret failed", "err", err)
		return CodeInternal, "the server could not make the agent secret; retry later", nil
	}
	id := uuid.NewString()
	cert, err := s.cfg.CA.SignCSR(csrDER, id, now, now.Add(ca.DeviceLifetime))
	if err != nil {
		return CodeBadRequest, err.Error(), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	dev := store.Device{ID: id, CertSHA256: ca.Fingerprint(cert.Raw), CertNotAfter: cert.NotAfter, Info: info, KeyKind: key,
		AgentVersion: agentVersionField(agentVersion), AgentSecretHash: pb.AgentSecretHash(secret)}
	if s.cfg.HoldEnrollments {
		dev.Approval = store.ApprovalPending
	}
	_, err = s.cfg.Store.Enroll(ctx, store.HashSecret(tok.Secret), dev, now)
	switch {
	case errors.Is(err, store.ErrTokenInvalid):
		return CodeTokenInvalid, "the enrollment token is not known to this server", nil
	case errors.Is(err, store.ErrTokenUsed):
		return CodeTokenUsed, "the enrollment token was already used", nil
	case errors.Is(err, store.ErrTokenExpired):
		return CodeTokenExpired, "the enrollment token has expired", nil
	case err != nil:
		s.log.Error("enroll device failed", "err", err)
		return CodeInternal, "the server could not store the enrollment; retry later", nil
	}
	return "", "", &pb.EnrollResponse{DeviceId: id, CertificateDer: cert.Raw, CaDer: s.cfg.CA.DER(), GatewayUrl: s.cfg.GatewayURL, Servers: s.cfg.Servers, KeyKind: key, AgentSecret: secret}
}

// deviceInfo validates the agent's description of itself with the same
// bounds as reports.
func deviceInfo(d *pb.DeviceInfo) (checks.Device, error) {
	r, err := checks.FromWire(&pb.Report{Device: d})
	if err != nil {
		return checks.Device{}, err
	}
	return r.Device, nil
}
