package store

import (
	"context"
	"time"
)

// LifecycleStore is the part of Store behind policy lifecycle: the
// hash-chained audit log, exceptions, user attestations and named server
// state. Every method is safe for concurrent use.
type LifecycleStore interface {
	// AuditTail returns the last audit row, or, when the log is empty,
	// a row holding only the anchor's Seq and Hash (zero if never pruned).
	AuditTail(ctx context.Context) (AuditRow, error)
	// AppendAudit inserts r, whose Seq must follow the tail's; it returns
	// ErrConflict when another writer appended first.
	AppendAudit(ctx context.Context, r AuditRow) error
	// AppendAuditRows appends rows after the log's tail in one
	// transaction, each placed by seal after the one before, and returns
	// them as stored. On ErrConflict (another process appended the same
	// sequence) nothing was stored.
	AppendAuditRows(ctx context.Context, rows []AuditRow, seal AuditSeal) ([]AuditRow, error)
	// AuditRows returns up to limit rows (at most MaxAuditPage) after
	// afterSeq, in order.
	AuditRows(ctx context.Context, afterSeq uint64, limit int) ([]AuditRow, error)
	// LatestAuditRows returns the newest limit rows (at most
	// MaxAuditPage) of the given kinds whose seq is at most atOrBefore,
	// oldest first.
	LatestAuditRows(ctx context.Context, kinds []string, atOrBefore uint64, limit int) ([]AuditRow, error)
	// AuditAnchor returns where retention last cut the chain.
	AuditAnchor(ctx context.Context) (AuditAnchor, error)
	// PruneAudit deletes the oldest rows written before before, as a
	// prefix of the chain, and records the anchor; it returns how many
	// rows it deleted.
	PruneAudit(ctx context.Context, before, now time.Time) (int64, error)

	// CreateException stores a new exception.
	CreateException(ctx context.Context, e Exception) error
	// Exception returns the exception with id, or ErrNotFound.
	Exception(ctx context.Context, id string) (Exception, error)
	// Exceptions lists exceptions that expire after unexpiredAt (ended
	// ones included), oldest start first.
	Exceptions(ctx context.Context, unexpiredAt time.Time) ([]Exception, error)
	// EndException ends an exception early; ErrNotFound if there is no
	// such exception or it already ended.
	EndException(ctx context.Context, id string, at time.Time, by string) error

	// RecordAttestation stores a user attestation.
	RecordAttestation(ctx context.Context, a Attestation) error
	// LatestAttestations maps each device attested at or after since to
	// its latest attestation time.
	LatestAttestations(ctx context.Context, since time.Time) (map[string]time.Time, error)

	// PutState stores a small named value (JSON), replacing the old one.
	PutState(ctx context.Context, name string, value []byte, at time.Time) error
	// State returns a named value and when it was stored, or ErrNotFound.
	State(ctx context.Context, name string) ([]byte, time.Time, error)

	// LastDecisions returns every device's last announced decision.
	LastDecisions(ctx context.Context) ([]LastDecision, error)
	// PutLastDecisions stores decisions in one transaction, replacing
	// the devices' previous ones; rows of devices that no longer exist
	// are skipped.
	PutLastDecisions(ctx context.Context, ds []LastDecision) error
	// SwapLastDecision replaces the device's stored decision by next only
	// if the stored one has prev's Allow and Reasons (prev nil: only if
	// none is stored), atomically across every process sharing the
	// database. swapped tells whether it did; if not, current is the
	// stored decision (zero if there is none or the device is gone).
	SwapLastDecision(ctx context.Context, prev *LastDecision, next LastDecision) (swapped bool, current LastDecision, err error)
	// SwapLastDecisions is SwapLastDecision for several devices in one
	// transaction, in order; each swap that wins appends its Audit row
	// (placed by seal) in the same transaction, so a change is stored
	// exactly when it is recorded. On an error nothing was stored.
	SwapLastDecisions(ctx context.Context, swaps []DecisionSwap, seal AuditSeal) ([]SwapOutcome, error)

	// TryLease takes the named lease, a role that one server process at a
	// time may hold among all those sharing the database; ErrLeaseHeld
	// when another holds it.
	TryLease(ctx context.Context, name string) (Lease, error)
}

// LastDecision is a device's decision as the server last announced it:
// whether it was allowed and its deny reasons as sorted "code" or
// "code:control" strings joined by commas.
type LastDecision struct {
	DeviceID  string
	Allow     bool
	Reasons   string
	DecidedAt time.Time
}
