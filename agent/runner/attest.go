package runner

import (
	"context"
	"errors"

	"github.com/postern-dev/postern/agent/attest"
	"github.com/postern-dev/postern/agent/client"
	pb "github.com/postern-dev/postern/proto"
)

// Attester is implemented by a Conn that can deliver user attestations
// (*client.Session does); a Conn without it leaves attestations pending.
type Attester interface {
	Attest(ctx context.Context, a *pb.Attestation) error
}

// sendAttestation delivers the pending user attestation, if any, and marks
// it recorded once the server echoes it. A refusal for good drops it, so
// that it does not block the reports; `status` then shows the error and
// the user attests again. Any other refusal keeps it for the next delivery.
func (r *Runner) sendAttestation(ctx context.Context, conn Conn) error {
	at, ok := conn.(Attester)
	if !ok {
		return nil
	}
	pa, err := r.dir.PendingAttestation()
	if err != nil || pa == nil {
		return err
	}
	p := *pa
	actx, cancel := context.WithTimeout(ctx, r.cfg.AckTimeout)
	err = at.Attest(actx, attest.ToWire(p))
	cancel()
	var se *client.ServerError
	if errors.As(err, &se) && se.Code == client.CodeBadAttestation {
		r.log.Error("attestation refused by the server, dropped", "code", se.Code)
		r.recordError(se)
		return r.dir.DropPendingAttestation(p)
	}
	if errors.As(err, &se) {
		// The server could not store it now; reports go on, and the
		// attestation is sent again on the next delivery.
		r.log.Warn("attestation not recorded, kept for retry", "code", se.Code)
		return nil
	}
	if err != nil {
		return err
	}
	r.log.Info("attestation recorded", "statement_version", p.StatementVersion)
	return r.dir.MarkAttestationRecorded(p, r.cfg.Clock())
}
