package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/store"
)

// Problem is one break in the chain, naming the row.
type Problem struct {
	Seq uint64 `json:"seq"`
	Msg string `json:"message"`
}

func (p Problem) String() string { return fmt.Sprintf("row %d: %s", p.Seq, p.Msg) }

// VerifyResult is what Verify found.
type VerifyResult struct {
	// Rows is how many rows were checked; First and Last their sequences.
	Rows        int
	First, Last uint64
	Problems    []Problem
	// Keyed says the log was verified with its audit key; rows up to
	// UnkeyedThrough predate the key and carry plain SHA-256 hashes
	// (anchored by the first checkpoint only).
	Keyed          bool
	UnkeyedThrough uint64
}

// OK reports whether the chain is intact.
func (r VerifyResult) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds how many problems Verify collects.
const maxProblems = 1000

// Verify walks the whole chain from the retention anchor and reports every
// row that was edited (its hash does not match its fields, or the next row
// does not link to it), deleted (a gap in the sequence, or rows missing
// from the end) or inserted. It returns an error only when it cannot read.
func (l *Log) Verify(ctx context.Context) (VerifyResult, error) {
	if l.keys == nil {
		if seq, keyed, err := l.keyedSince(ctx); err != nil {
			return VerifyResult{}, err
		} else if keyed {
			return VerifyResult{}, fmt.Errorf("verify audit: the log has been keyed since row %d: %w here (run it where %s is)", seq, ErrNoKey, KeyFile)
		}
	}
	anchor, err := l.st.AuditAnchor(ctx)
	if err != nil {
		return VerifyResult{}, err
	}
	var res VerifyResult
	add := func(seq uint64, format string, args ...any) {
		if len(res.Problems) < maxProblems {
			res.Problems = append(res.Problems, Problem{Seq: seq, Msg: fmt.Sprintf(format, args...)})
		}
	}
	prev := store.AuditRow{Seq: anchor.Seq, Hash: anchor.Hash}
	prevOK := true
	after := uint64(0)
	for {
		rows, err := l.st.AuditRows(ctx, after, store.MaxAuditPage)
		if err != nil {
			return res, err
		}
		for _, r := range rows {
			if res.Rows == 0 {
				res.First = r.Seq
			}
			res.Rows++
			res.Last = r.Seq
			selfOK := l.rowHash(r) == r.Hash
			if !selfOK {
				if l.keys.keyFor(r.Seq) != nil {
					add(r.Seq, "edited: its hash is not the audit key's for its contents")
				} else {
					add(r.Seq, "edited: its hash does not match its contents")
				}
			}
			switch {
			case r.Seq <= prev.Seq:
				add(r.Seq, "inserted: sequence is not above the previous row's %d", prev.Seq)
			case r.Seq > prev.Seq+1:
				add(prev.Seq+1, "deleted: rows %d to %d are missing", prev.Seq+1, r.Seq-1)
			case r.PrevHash != prev.Hash && selfOK && prevOK:
				// Both rows are self-consistent, so the earlier one was
				// rewritten with a recomputed hash.
				if prev.Seq == anchor.Seq {
					add(r.Seq, "does not link to the retention anchor (row %d)", anchor.Seq)
				} else {
					add(prev.Seq, "edited: the next row does not link to it")
				}
			}
			prev, prevOK = r, selfOK
		}
		if len(rows) < store.MaxAuditPage {
			break
		}
		after = rows[len(rows)-1].Seq
	}
	if l.keys != nil {
		res.Keyed = true
		res.UnkeyedThrough = min(l.keys.Keys[0].FromSeq-1, res.Last)
		if err := l.verifyKeyMarkers(ctx, anchor.Seq, add); err != nil {
			return res, err
		}
	}
	headSeq, headHash, ok, err := l.head(ctx)
	if err != nil {
		return res, err
	}
	if ok {
		switch {
		case headSeq > prev.Seq:
			add(prev.Seq+1, "deleted: rows %d to %d are missing from the end", prev.Seq+1, headSeq)
		case headSeq == prev.Seq && headHash != prev.Hash && prevOK:
			add(prev.Seq, "edited: it is not the row last appended")
		}
	}
	return res, nil
}

// verifyKeyMarkers checks that the row where each audit key starts is
// there and says so: without it, deleting every keyed row (and setting
// the head back) would leave an unkeyed chain that verifies.
func (l *Log) verifyKeyMarkers(ctx context.Context, anchorSeq uint64, add func(uint64, string, ...any)) error {
	for _, k := range l.keys.Keys {
		if k.FromSeq <= anchorSeq {
			continue
		}
		rows, err := l.st.AuditRows(ctx, k.FromSeq-1, 1)
		if err != nil {
			return err
		}
		if len(rows) == 0 || rows[0].Seq != k.FromSeq || rows[0].Kind != KindAuditKey {
			add(k.FromSeq, "deleted: audit key %s starts at this row, which is missing or is not its start", k.ID)
		}
	}
	return nil
}

func (l *Log) head(ctx context.Context) (uint64, string, bool, error) {
	v, _, err := l.st.State(ctx, store.AuditHeadState)
	if errors.Is(err, store.ErrNotFound) {
		return 0, "", false, nil
	}
	if err != nil {
		return 0, "", false, err
	}
	seqStr, hash, _ := strings.Cut(string(v), " ")
	seq, err := strconv.ParseUint(seqStr, 10, 64)
	if err != nil {
		return 0, "", false, fmt.Errorf("audit head %q: %w", v, err)
	}
	return seq, hash, true, nil
}

// ExportRow is one line of Export.
type ExportRow struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Kind     string          `json:"kind"`
	DeviceID string          `json:"device_id,omitempty"`
	Details  json.RawMessage `json:"details"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// ToExportRow is r as Export writes it (and the management API's
// /v1/audit): details that are not JSON become a JSON string.
func ToExportRow(r store.AuditRow) ExportRow {
	details := json.RawMessage(r.Details)
	if !json.Valid(details) {
		details, _ = jsonenc.Marshal(string(r.Details))
	}
	return ExportRow{Seq: r.Seq, Time: r.At, Actor: r.Actor, Kind: r.Kind, DeviceID: r.DeviceID,
		Details: details, PrevHash: r.PrevHash, Hash: r.Hash}
}

// Export writes every row after afterSeq as JSON lines, in order.
func (l *Log) Export(ctx context.Context, w io.Writer, afterSeq uint64) error {
	enc := jsonenc.NewEncoder(w)
	for {
		rows, err := l.st.AuditRows(ctx, afterSeq, store.MaxAuditPage)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := enc.Encode(ToExportRow(r)); err != nil {
				return fmt.Errorf("export audit: %w", err)
			}
		}
		if len(rows) < store.MaxAuditPage {
			return nil
		}
		afterSeq = rows[len(rows)-1].Seq
	}
}

// MinRetention is the shortest audit retention allowed: one year.
const MinRetention = 365 * 24 * time.Hour

// DefaultRetention is the audit retention when none is configured: six
// years, as HIPAA asks of security documentation.
const DefaultRetention = 6 * 365 * 24 * time.Hour

// ErrRetentionTooShort is returned for a retention under MinRetention.
var ErrRetentionTooShort = errors.New("audit retention is shorter than 365 days")

// ValidateRetention refuses a retention shorter than MinRetention.
func ValidateRetention(d time.Duration) error {
	if d < MinRetention {
		return fmt.Errorf("%w: %v", ErrRetentionTooShort, d)
	}
	return nil
}

// Prune deletes rows older than retention and records that it did.
func (l *Log) Prune(ctx context.Context, retention time.Duration) (int64, error) {
	if err := ValidateRetention(retention); err != nil {
		return 0, err
	}
	now := l.now()
	n, err := l.st.PruneAudit(ctx, now.Add(-retention), now)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		l.Record(ctx, Entry{Actor: ActorServer, Kind: KindAuditPruned, Details: map[string]any{"rows": n, "retention": retention.String()}})
	}
	return n, nil
}
