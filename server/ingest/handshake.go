package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// CodeDeviceInactive refuses a device that has not reported for
// decision.InactiveAfter; it must enroll again.
const CodeDeviceInactive = "device_inactive"

// Errors of verifyConnection, which the client sees as a TLS alert.
var (
	errCertRevoked  = errors.New("device certificate revoked")
	errCertInactive = errors.New("device inactive for more than 90 days; enroll again")
)

// verifyConnection refuses, during the handshake, a client certificate
// whose device was revoked or went inactive, so such a device never gets
// a stream. Enrollment connections carry no certificate and pass; an
// unknown certificate passes too and is refused with a clear error on
// its control stream.
func (s *Server) verifyConnection(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	dev, err := s.cfg.Store.DeviceByCert(ctx, ca.Fingerprint(cs.PeerCertificates[0].Raw))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		s.log.Error("look up device at handshake failed", "err", err)
		return fmt.Errorf("look up device: %w", err)
	case dev.Revoked():
		s.log.Info("handshake refused", "reason", CodeDeviceRevoked, "device_id", dev.ID)
		return errCertRevoked
	case decision.Inactive(dev.LastSeenAt, s.now()):
		s.log.Info("handshake refused", "reason", CodeDeviceInactive, "device_id", dev.ID)
		return errCertInactive
	}
	return nil
}

// policyFor returns the policy and agent YAML for an organization.
func (s *Server) policyFor(org string) (*checks.Policy, []byte) {
	if s.cfg.PolicyFor != nil {
		return s.cfg.PolicyFor(org)
	}
	return s.cfg.Policy, s.cfg.PolicyYAML
}

// record appends to the audit log when one is configured.
func (s *Server) record(e audit.Entry) {
	if s.cfg.Audit == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	s.cfg.Audit.Record(ctx, e)
}
