package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/store"
)

// Kinds of audit rows, stable for exports and scripts.
const (
	KindEnrollment = "device_enrolled"
	KindRevocation = "device_revoked"
	// An enrollment held for approval (enrollment.approve: manual) that an
	// administrator approved or denied.
	KindEnrollmentApproved = "device_approved"
	KindEnrollmentDenied   = "device_denied"
	KindCertRenewed        = "certificate_renewed"
	KindExceptionGranted   = "exception_granted"
	KindExceptionEnded     = "exception_ended"
	KindAttestation        = "attestation_recorded"
	KindPolicyApplied      = "policy_applied"
	KindPolicyHeld         = "policy_held"
	KindPolicyRejected     = "policy_rejected"
	KindDeny               = "decision_deny"
	KindDecisionChanged    = "decision_changed"
	KindDecisionsHourly    = "decisions_hourly"
	KindAPIKeyCreated      = "apikey_created"
	KindTokenCreated       = "token_created"
	KindAuditPruned        = "audit_pruned"
	KindAdmin              = "admin_action"
	KindAPIKeyRevoked      = "apikey_revoked"
	KindTokenRevoked       = "token_revoked"
	KindRecheck            = "recheck_requested"
	KindNoteAdded          = "note_added"
	KindDevicesExported    = "devices_exported"
	KindAuditExported      = "audit_exported"
	// Dashboard accounts (server/users).
	KindUserCreated     = "user_created"
	KindUserRoleChanged = "user_role_changed"
	KindUserUnlocked    = "user_unlocked"
	KindUserInactive    = "user_inactive"
	KindPasswordChanged = "password_changed"
	KindPasswordReset   = "password_reset"
	// Dashboard sign-in through an OpenID provider, sign-out, and sign-ins
	// refused after the provider answered (no role, name taken, password
	// sign-in turned off).
	KindSignedIn      = "user_signed_in"
	KindSignedOut     = "user_signed_out"
	KindSignInRefused = "sign_in_refused"
	KindUserLocked    = "user_locked"
	KindUserDisabled  = "user_disabled"
	KindUserEnabled   = "user_enabled"
	KindUserDeleted   = "user_deleted"
	KindUserReviewed  = "user_reviewed"
	KindServerInit    = "server_initialised"
)

// Actors used by the server itself; administrators appear by name.
const (
	ActorServer = "server"
	ActorAgent  = "agent"
)

// Limits on what one row may hold.
const (
	MaxFieldLen   = 256
	MaxDetailsLen = 16 << 10
	appendRetries = 5
)

// Entry is what a caller records; the log adds seq, time and hashes.
type Entry struct {
	Actor    string
	Kind     string
	DeviceID string
	// Details is encoded as a JSON object (a struct or a map); nil is {}.
	Details any
	// At is the event's time; zero means now.
	At time.Time
}

// Log appends to and verifies the audit log in a store. It is safe for
// concurrent use, also by several processes sharing one database (the
// command line and the server).
//
// Appends are group-committed: concurrent Appends queue, and one of them
// (the leader) writes every queued row in one transaction, then hands the
// lead to the next waiting caller. So a busy server pays one commit for
// many rows, and on SQLite that commit rides the store's own batches.
type Log struct {
	st  store.LifecycleStore
	now func() time.Time
	log *slog.Logger
	// mu serializes this process's writes to the chain (a batch of rows,
	// a key's marker row), so that they do not race each other for the
	// next sequence and every row is sealed with the keys in force; other
	// processes are retried.
	mu sync.Mutex
	// keys authenticate the chain (key.go); nil for an unkeyed log.
	keys *Keyring

	// qmu guards queue and writing: the rows waiting for a leader.
	qmu     sync.Mutex
	queue   []*appendReq
	writing bool
}

// appendReq is one row waiting to be appended; res receives its result,
// or, first, lead: the caller is to write the queue.
type appendReq struct {
	r   store.AuditRow
	res chan appendResult
}

type appendResult struct {
	row  store.AuditRow
	err  error
	lead bool
}

// batchTimeout bounds one batch's write, which serves many callers and so
// does not end with any one caller's context.
const batchTimeout = 30 * time.Second

// New returns a log over st. now and logger may be nil.
func New(st store.LifecycleStore, now func() time.Time, logger *slog.Logger) *Log {
	if now == nil {
		now = clock.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Log{st: st, now: now, log: logger}
}

// ErrInvalidEntry wraps every rejected entry.
var ErrInvalidEntry = errors.New("invalid audit entry")

// Row checks e and returns it as a row to append: everything but its
// place in the chain (Seq, PrevHash, Hash), which Seal gives it.
func (l *Log) Row(e Entry) (store.AuditRow, error) {
	if e.Actor == "" || e.Kind == "" || len(e.Actor) > MaxFieldLen || len(e.Kind) > MaxFieldLen || len(e.DeviceID) > MaxFieldLen {
		return store.AuditRow{}, fmt.Errorf("%w: actor and kind are required, fields at most %d bytes", ErrInvalidEntry, MaxFieldLen)
	}
	details, err := encodeDetails(e.Details)
	if err != nil {
		return store.AuditRow{}, err
	}
	at := e.At
	if at.IsZero() {
		at = l.now()
	}
	return store.AuditRow{At: at.UTC().Truncate(time.Microsecond), Actor: e.Actor, Kind: e.Kind, DeviceID: e.DeviceID, Details: details}, nil
}

// seal is the store.AuditSeal of this log: r follows tail, hashed with the
// keys in force. Callers hold l.mu.
func (l *Log) seal(tail, r store.AuditRow) store.AuditRow {
	r.Seq, r.PrevHash = tail.Seq+1, tail.Hash
	r.Hash = l.rowHash(r)
	return r
}

// Append records e at the end of the chain and returns the stored row.
func (l *Log) Append(ctx context.Context, e Entry) (store.AuditRow, error) {
	r, err := l.Row(e)
	if err != nil {
		return store.AuditRow{}, err
	}
	req := &appendReq{r: r, res: make(chan appendResult, 1)}
	l.qmu.Lock()
	l.queue = append(l.queue, req)
	lead := !l.writing
	l.writing = true
	l.qmu.Unlock()
	if !lead {
		// The row is in a leader's hands: wait for it whatever ctx does,
		// so that a stored row is never reported as failed.
		res := <-req.res
		if !res.lead {
			return res.row, res.err
		}
	}
	l.qmu.Lock()
	batch := l.queue
	l.queue = nil
	l.qmu.Unlock()
	l.writeBatch(context.WithoutCancel(ctx), batch)
	l.qmu.Lock()
	if len(l.queue) > 0 {
		l.queue[0].res <- appendResult{lead: true}
	} else {
		l.writing = false
	}
	l.qmu.Unlock()
	res := <-req.res
	return res.row, res.err
}

// writeBatch appends the batch's rows in one transaction and answers
// each request.
func (l *Log) writeBatch(ctx context.Context, batch []*appendReq) {
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	rows := make([]store.AuditRow, len(batch))
	for i, req := range batch {
		rows[i] = req.r
	}
	out, err := l.appendRows(ctx, rows)
	for i, req := range batch {
		if err != nil {
			req.res <- appendResult{err: err}
			continue
		}
		req.res <- appendResult{row: out[i]}
	}
}

// appendRows appends rows in one transaction, retrying when another
// process appended first.
func (l *Log) appendRows(ctx context.Context, rows []store.AuditRow) ([]store.AuditRow, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkKeyed(ctx); err != nil {
		return nil, err
	}
	for range appendRetries {
		out, err := l.st.AppendAuditRows(ctx, rows, l.seal)
		if errors.Is(err, store.ErrConflict) {
			continue // another process appended first; link to its row
		}
		if err != nil {
			return nil, fmt.Errorf("append audit: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("append audit: %w after %d attempts", store.ErrConflict, appendRetries)
}

// checkKeyed refuses to append to a keyed chain without the key: a row
// this log cannot authenticate would break it. Callers hold l.mu.
func (l *Log) checkKeyed(ctx context.Context) error {
	if l.keys != nil {
		return nil
	}
	if seq, keyed, err := l.keyedSince(ctx); err != nil {
		return fmt.Errorf("append audit: %w", err)
	} else if keyed {
		return fmt.Errorf("append audit: %w here, but the log has been keyed since row %d: copy %s from the server's data directory", ErrNoKey, seq, KeyFile)
	}
	return nil
}

// SwapDecisions stores devices' new decisions and the rows recording them
// in one transaction (store.SwapLastDecisions), the rows sealed into this
// log's chain: a decision change is stored exactly when it is recorded.
// Build each swap's Audit row with Row.
func (l *Log) SwapDecisions(ctx context.Context, swaps []store.DecisionSwap) ([]store.SwapOutcome, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkKeyed(ctx); err != nil {
		return nil, err
	}
	for range appendRetries {
		out, err := l.st.SwapLastDecisions(ctx, swaps, l.seal)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return out, err
	}
	return nil, fmt.Errorf("record decisions: %w after %d attempts", store.ErrConflict, appendRetries)
}

// Record is Append for callers that cannot act on a failure (the decision
// path): the failure is logged, never returned.
func (l *Log) Record(ctx context.Context, e Entry) {
	if _, err := l.Append(ctx, e); err != nil {
		l.log.Error("audit append failed", "kind", e.Kind, "device_id", e.DeviceID, "err", err)
	}
}

func encodeDetails(v any) ([]byte, error) {
	if v == nil {
		return []byte("{}"), nil
	}
	b, err := jsonenc.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: details: %w", ErrInvalidEntry, err)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%w: details must be a JSON object", ErrInvalidEntry)
	}
	if len(b) > MaxDetailsLen {
		return nil, fmt.Errorf("%w: details larger than %d bytes", ErrInvalidEntry, MaxDetailsLen)
	}
	return b, nil
}

// hashVersion is mixed into every hash so that a future format cannot be
// confused with this one.
const hashVersion = "postern-audit-v1"

// Hash returns the hex SHA-256 of r's canonical encoding: every field but
// Hash, each as its decimal byte length, ':', the bytes and '\n'. Times are
// Unix nanoseconds in decimal. The length prefixes make the encoding
// unambiguous whatever the fields contain.
func Hash(r store.AuditRow) string {
	h := sha256.New()
	writeCanonical(h, hashVersion, r)
	return hex.EncodeToString(h.Sum(nil))
}

// writeCanonical writes r's canonical encoding, led by version, to h.
func writeCanonical(h hash.Hash, version string, r store.AuditRow) {
	var buf []byte
	field := func(s string) {
		buf = strconv.AppendInt(buf[:0], int64(len(s)), 10)
		buf = append(buf, ':')
		h.Write(buf)
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	field(version)
	field(strconv.FormatUint(r.Seq, 10))
	field(strconv.FormatInt(r.At.UnixNano(), 10))
	field(r.Actor)
	field(r.Kind)
	field(r.DeviceID)
	field(string(r.Details))
	field(r.PrevHash)
}
