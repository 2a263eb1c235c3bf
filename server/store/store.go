package store

import (
	"context"
	"errors"
	"time"

	"github.com/postern-dev/postern/checks"
)

// MaxHistoryPerDevice bounds each device's history: only reports among the
// last MaxHistoryPerDevice sequence numbers are kept.
const MaxHistoryPerDevice = 1000

// Errors returned by every Store implementation.
var (
	ErrNotFound         = errors.New("not found")
	ErrTokenInvalid     = errors.New("enrollment token unknown")
	ErrTokenUsed        = errors.New("enrollment token already used")
	ErrTokenExpired     = errors.New("enrollment token expired")
	ErrSequenceReplayed = errors.New("report sequence replayed")
	ErrDeviceRevoked    = errors.New("device revoked")
	ErrConflict         = errors.New("already exists")
)

// Device is an enrolled machine.
type Device struct {
	ID string
	// CertSHA256 is the lowercase hex SHA-256 of the current device
	// certificate's DER.
	CertSHA256   string
	CertNotAfter time.Time
	Info         checks.Device
	// Org and Owner are labels copied from the enrollment token.
	Org, Owner string
	EnrolledAt time.Time
	// RevokedAt is zero unless the device was revoked.
	RevokedAt  time.Time
	LastSeenAt time.Time
	// KeyKind is where the device key lives, as verified at enrollment:
	// KeyHardware only with a TPM attestation the server trusted.
	KeyKind string
	// AgentVersion is the software version the device's agent last gave
	// in its Hello; empty if it never did.
	AgentVersion string
	// Approval is ApprovalPending while an administrator has not yet
	// approved the enrollment (server configuration enrollment.approve:
	// manual), ApprovalDenied once refused, and empty when approved.
	Approval string
	// AgentSecretHash is pb.AgentSecretHash of the agent secret issued at
	// enrollment, which the agent proves on every connection; empty for a
	// device enrolled before agent secrets existed.
	AgentSecretHash string
}

// Enrollment approval states (Device.Approval); empty is approved.
const (
	ApprovalPending = "pending"
	ApprovalDenied  = "denied"
)

// Pending reports whether the device's enrollment awaits approval.
func (d Device) Pending() bool { return d.Approval == ApprovalPending }

// Device key kinds (Device.KeyKind).
const (
	KeyHardware = "hardware"
	KeySoftware = "software"
)

// Revoked reports whether the device was revoked.
func (d Device) Revoked() bool { return !d.RevokedAt.IsZero() }

// Token is an enrollment token as stored: only the hash of its secret.
type Token struct {
	Hash       string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	Org, Owner string
}

// APIKey is an API key as stored: only the hash of its secret.
type APIKey struct {
	ID   string
	Name string
	Hash string
	// Scopes are what the key may do (apikeyscopes.go), in AllScopes'
	// order.
	Scopes []Scope
	// Owner is who created the key: "os:NAME" from the command line, the
	// dashboard account's name otherwise.
	Owner     string
	CreatedAt time.Time
	// ExpiresAt is zero for a key that does not expire.
	ExpiresAt time.Time
	RevokedAt time.Time
	// LastUsedAt is when the key last opened a request, to within a
	// minute (zero if never).
	LastUsedAt time.Time
}

// Report is one stored report.
type Report struct {
	DeviceID    string
	Sequence    uint64
	Hash        string
	CollectedAt time.Time
	ReceivedAt  time.Time
	// Body is the JSON encoding of checks.Report.
	Body []byte
}

// Ingest is a report to commit, with what the server concluded from it.
type Ingest struct {
	Report
	// Info replaces the device's description.
	Info checks.Device
	// Failing lists the controls that failed this report, so that a
	// warn_then_block control's grace counts from its first failure.
	Failing []checks.ControlID
}

// Posture is what the decision API needs about a device in one read.
type Posture struct {
	Device Device
	// Latest is nil when the device never reported.
	Latest *Report
	// FirstFailed maps each currently failing control to when it first failed.
	FirstFailed map[checks.ControlID]time.Time
}

// Store is the server's persistence. Every method is safe for concurrent use.
type Store interface {
	// CreateToken stores a new enrollment token.
	CreateToken(ctx context.Context, t Token) error
	// Enroll redeems the token with hash tokenHash (once, before it expires)
	// and creates dev with the token's labels, in one transaction. It returns
	// ErrTokenInvalid, ErrTokenUsed or ErrTokenExpired when it cannot.
	Enroll(ctx context.Context, tokenHash string, dev Device, now time.Time) (Device, error)
	// Device returns the device with id, or ErrNotFound.
	Device(ctx context.Context, id string) (Device, error)
	// DeviceByCert returns the device whose current certificate has the hex
	// SHA-256 certSHA256, or ErrNotFound.
	DeviceByCert(ctx context.Context, certSHA256 string) (Device, error)
	// Devices lists every device, ordered by ID.
	Devices(ctx context.Context) ([]Device, error)
	// RenewCert replaces the device's certificate identity.
	RenewCert(ctx context.Context, id, certSHA256 string, notAfter time.Time) error
	// Revoke marks the device revoked at the given time.
	Revoke(ctx context.Context, id string, at time.Time) error
	// SetAgentVersion records the agent version the device last gave.
	SetAgentVersion(ctx context.Context, id, version string) error
	// SetApproval sets the device's enrollment approval: "" (approved),
	// ApprovalPending or ApprovalDenied.
	SetApproval(ctx context.Context, id, approval string) error

	// IngestReport commits a report in one transaction. A sequence equal to
	// the last stored one with the same hash is a retransmission: nothing is
	// stored and duplicate is true. A lower sequence, or an equal one with a
	// different hash, is ErrSequenceReplayed.
	IngestReport(ctx context.Context, in Ingest) (duplicate bool, err error)
	// Posture returns the device, its latest report and failing controls;
	// ErrNotFound when the device does not exist.
	Posture(ctx context.Context, deviceID string) (Posture, error)
	// Postures is Posture for every device, ordered by ID, in a few
	// queries; the latest reports come without their Hash and Body.
	Postures(ctx context.Context) ([]Posture, error)
	// PostureByCert is Posture for the device with the certificate hash.
	PostureByCert(ctx context.Context, certSHA256 string) (Posture, error)
	// History returns up to limit of the device's reports, newest first.
	History(ctx context.Context, deviceID string, limit int) ([]Report, error)
	// Prune deletes history rows received before cutoff, keeping every
	// device's latest report; it returns how many rows it deleted.
	Prune(ctx context.Context, cutoff time.Time) (int64, error)

	// CreateAPIKey stores a new API key; ErrConflict if the ID exists.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// APIKey returns the key with id, or ErrNotFound.
	APIKey(ctx context.Context, id string) (APIKey, error)

	// LifecycleStore holds the audit log, exceptions, attestations and
	// server state (lifecycle_store.go, exceptions.go, audit.go).
	LifecycleStore
	// The dashboard's and the command line's parts, each in its own
	// file: every Store has them all, so that a wrapper (ForgetOnWrite,
	// metrics) keeps them by embedding Store, and no consumer has to find
	// them by type assertion.
	Accounts
	MFAStore
	Fleet
	AuditSearcher
	APIKeyLister
	APIKeyRevoker
	APIKeyToucher
	NoteStore
	RevocationLister
	SecretStore
	// TryLease takes the named lease if no other server holds it
	// (ErrLeaseHeld); see lease.go.
	TryLease(ctx context.Context, name string) (Lease, error)

	// Close releases the store's resources.
	Close() error
}
