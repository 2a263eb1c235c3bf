package serve

import (
	"context"
	"fmt"

	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/audit"
)

// onAttestation is ingest's OnAttestation: it records and audits the
// attestation as taken by the agent, then re-decides the device at once
// rather than at the index's next refresh.
func (l *lifecycle) onAttestation(ctx context.Context, deviceID string, a *pb.Attestation) error {
	if _, err := l.exceptions.Attest(ctx, deviceID, a.GetUser(), a.GetStatementVersion(), audit.ActorAgent); err != nil {
		return fmt.Errorf("record attestation: %w", err)
	}
	if err := l.index.Refresh(ctx); err != nil {
		l.log.Warn("refresh attestations failed", "device_id", deviceID, "err", err)
	}
	l.onReport(deviceID)
	return nil
}
