package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
)

// deviceState is what ingest reads of a device before storing a report.
type deviceState struct {
	last, revoked int64
	lastHash      string
	// failing is the failing set of the last report (failingKey), or
	// unknownFailing.
	failing string
	info    checks.Device
}

// unknownFailing is devices.failing before a device's first report under
// the column: its control_failures rows must be read to be known.
const unknownFailing = "*"

// ingestOne applies the sequence rules to one report and stores it.
// Rejections are decided before any write.
func (w *writeTx) ingestOne(in Ingest) (bool, error) {
	var d deviceState
	i := &d.info
	// On PostgreSQL the device's row stays locked until the report
	// commits, so that two replicas cannot both store the same sequence
	// or move last_sequence backwards.
	err := w.queryRow(w.s.lockRow(qDeviceSequence), in.DeviceID).Scan(&d.last, &d.lastHash, &d.revoked, &d.failing,
		&i.Hostname, &i.OS, &i.OSName, &i.OSVersion, &i.Arch)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, ErrNotFound
	case err != nil:
		return false, fmt.Errorf("read device sequence: %w", err)
	case d.revoked != 0:
		return false, ErrDeviceRevoked
	}
	seq := int64(in.Sequence)
	if seq == d.last && HashesEqual(d.lastHash, in.Hash) {
		return true, nil
	}
	if seq <= d.last {
		return false, ErrSequenceReplayed
	}
	return false, w.storeReport(in, d)
}

func (w *writeTx) storeReport(in Ingest, d deviceState) error {
	seq, col, rcv := int64(in.Sequence), nanos(in.CollectedAt), nanos(in.ReceivedAt)
	body := string(in.Body)
	if _, err := w.exec(qInsertReport, in.DeviceID, seq, in.Hash, col, rcv, body); err != nil {
		return fmt.Errorf("insert report: %w", err)
	}
	if w.s.testHookStored != nil {
		if err := w.s.testHookStored(in); err != nil {
			return err
		}
	}
	if _, err := w.exec(qUpsertLatest, in.DeviceID, seq, in.Hash, col, rcv, body); err != nil {
		return fmt.Errorf("update latest report: %w", err)
	}
	failing := failingKey(in.Failing)
	if failing != d.failing {
		if err := w.updateFailures(in.DeviceID, in.Failing, rcv); err != nil {
			return err
		}
	}
	// Rewriting unchanged description columns would still rewrite their
	// index entries, so they are only set when they changed.
	var err error
	if i := in.Info; i != d.info {
		_, err = w.exec(qUpdateDevice, seq, in.Hash, rcv, failing,
			i.Hostname, i.OS, i.OSName, i.OSVersion, i.Arch, in.DeviceID)
	} else {
		_, err = w.exec(qUpdateDeviceSeen, seq, in.Hash, rcv, failing, in.DeviceID)
	}
	if err != nil {
		return fmt.Errorf("update device: %w", err)
	}
	// Keep the history bounded: only the last MaxHistoryPerDevice sequence
	// numbers stay, which is at most that many reports (fewer when the
	// agent skipped numbers). This is one index range, where counting back
	// MaxHistoryPerDevice rows walked the whole history on every report.
	if seq > MaxHistoryPerDevice {
		if _, err := w.exec(qTrimHistory, in.DeviceID, seq-MaxHistoryPerDevice); err != nil {
			return fmt.Errorf("trim history: %w", err)
		}
	}
	return nil
}

// failingKey is the canonical form of a failing set stored in
// devices.failing: sorted control IDs joined by commas.
func failingKey(ids []checks.ControlID) string {
	if len(ids) == 0 {
		return ""
	}
	sorted := make([]string, len(ids))
	for i, id := range ids {
		sorted[i] = string(id)
	}
	slices.Sort(sorted)
	return strings.Join(slices.Compact(sorted), ",")
}

// updateFailures makes the device's failing controls match failing,
// keeping the first-failure time of those that were already failing. It is
// called only when the failing set changed since the device's last report
// (or is not known), and writes only the difference.
func (w *writeTx) updateFailures(deviceID string, failing []checks.ControlID, at int64) error {
	current, err := w.failures(deviceID)
	if err != nil {
		return err
	}
	for _, id := range current {
		if !slices.Contains(failing, id) {
			if _, err := w.exec(qDeleteFailure, deviceID, string(id)); err != nil {
				return fmt.Errorf("clear control failure: %w", err)
			}
		}
	}
	for _, id := range failing {
		if !slices.Contains(current, id) {
			if _, err := w.exec(qInsertFailure, deviceID, string(id), at); err != nil {
				return fmt.Errorf("record control failure: %w", err)
			}
		}
	}
	return nil
}

func (w *writeTx) failures(deviceID string) ([]checks.ControlID, error) {
	rows, err := w.query(qFailures, deviceID)
	if err != nil {
		return nil, fmt.Errorf("read control failures: %w", err)
	}
	defer rows.Close()
	var out []checks.ControlID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read control failures: %w", err)
		}
		out = append(out, checks.ControlID(id))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read control failures: %w", err)
	}
	return out, nil
}

const postureQuery = `SELECT ` + deviceColumns + `, l.sequence, l.hash, l.collected_at, l.received_at, l.body
	FROM devices d LEFT JOIN latest_reports l ON l.device_id = d.id WHERE `

func (s *sqlStore) Posture(ctx context.Context, deviceID string) (Posture, error) {
	return s.posture(ctx, qPostureByID, deviceID)
}

func (s *sqlStore) PostureByCert(ctx context.Context, certSHA256 string) (Posture, error) {
	return s.posture(ctx, qPostureByCert, certSHA256)
}

func (s *sqlStore) posture(ctx context.Context, query, arg string) (Posture, error) {
	var seq, col, rcv sql.NullInt64
	var hash, body sql.NullString
	d, err := scanDevice(s.readRow(ctx, query, arg), &seq, &hash, &col, &rcv, &body)
	if err != nil {
		return Posture{}, err
	}
	p := Posture{Device: d}
	if seq.Valid {
		p.Latest = &Report{DeviceID: d.ID, Sequence: uint64(seq.Int64), Hash: hash.String,
			CollectedAt: fromNanos(col.Int64), ReceivedAt: fromNanos(rcv.Int64), Body: []byte(body.String)}
	}
	rows, err := s.readRows(ctx, qFirstFailed, d.ID)
	if err != nil {
		return Posture{}, fmt.Errorf("read control failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return Posture{}, fmt.Errorf("read control failures: %w", err)
		}
		if p.FirstFailed == nil {
			p.FirstFailed = map[checks.ControlID]time.Time{}
		}
		p.FirstFailed[checks.ControlID(id)] = fromNanos(at)
	}
	if err := rows.Err(); err != nil {
		return Posture{}, fmt.Errorf("read control failures: %w", err)
	}
	return p, nil
}

func (s *sqlStore) History(ctx context.Context, deviceID string, limit int) ([]Report, error) {
	if limit <= 0 || limit > MaxHistoryPerDevice {
		limit = MaxHistoryPerDevice
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT sequence, hash, collected_at, received_at, body FROM reports
		WHERE device_id = ? ORDER BY sequence DESC LIMIT ?`), deviceID, limit)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		r := Report{DeviceID: deviceID}
		var seq, col, rcv int64
		var body string
		if err := rows.Scan(&seq, &r.Hash, &col, &rcv, &body); err != nil {
			return nil, fmt.Errorf("read history: %w", err)
		}
		r.Sequence, r.CollectedAt, r.ReceivedAt, r.Body = uint64(seq), fromNanos(col), fromNanos(rcv), []byte(body)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	return out, nil
}

func (s *sqlStore) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM reports WHERE received_at < ?`), nanos(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune history: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune history: %w", err)
	}
	return n, nil
}

// Hot write statements of report ingest, prepared once at open.
const (
	qDeviceSequence = `SELECT last_sequence, last_hash, revoked_at, failing,
		hostname, os, os_name, os_version, arch FROM devices WHERE id = ?`
	qInsertReport = `INSERT INTO reports (device_id, sequence, hash, collected_at, received_at, body) VALUES (?, ?, ?, ?, ?, ?)`
	qUpsertLatest = `INSERT INTO latest_reports (device_id, sequence, hash, collected_at, received_at, body) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash,
		collected_at = excluded.collected_at, received_at = excluded.received_at, body = excluded.body`
	qUpdateDevice = `UPDATE devices SET last_sequence = ?, last_hash = ?, last_seen_at = ?, failing = ?,
		hostname = ?, os = ?, os_name = ?, os_version = ?, arch = ? WHERE id = ?`
	qUpdateDeviceSeen = `UPDATE devices SET last_sequence = ?, last_hash = ?, last_seen_at = ?, failing = ? WHERE id = ?`
	qInsertFailure    = `INSERT INTO control_failures (device_id, control_id, first_failed_at) VALUES (?, ?, ?)
			ON CONFLICT (device_id, control_id) DO NOTHING`
	qFailures      = `SELECT control_id FROM control_failures WHERE device_id = ?`
	qDeleteFailure = `DELETE FROM control_failures WHERE device_id = ? AND control_id = ?`
	qTrimHistory   = `DELETE FROM reports WHERE device_id = ? AND sequence <= ?`
)

var hotStatements = []string{
	qDeviceSequence, qInsertReport, qUpsertLatest, qUpdateDevice, qUpdateDeviceSeen, qInsertFailure, qFailures, qDeleteFailure, qTrimHistory,
	qSavepoint, qRollbackSavepoint, qReleaseSavepoint,
}

// metaHint makes SQLite read the latest reports' metadata from its index.
const metaHint = `INDEXED BY latest_reports_meta`

// Postures reads every device's posture in two queries: the devices with
// their latest report's sequence and times (without its hash and body,
// which Posture reads), and every failing control.
func (s *sqlStore) Postures(ctx context.Context) ([]Posture, error) {
	// The hash is left out, so that the reports' metadata comes from
	// the latest_reports_meta index alone (hinted on SQLite, as
	// statusSQL does).
	query := `SELECT ` + deviceColumns + `, l.sequence, l.collected_at, l.received_at
		FROM devices d LEFT JOIN latest_reports l ` + metaHint + ` ON l.device_id = d.id ORDER BY d.id`
	if s.style != placeholderQuestion {
		query = strings.Replace(query, metaHint, "", 1)
	}
	rows, err := s.r.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("read postures: %w", err)
	}
	defer rows.Close()
	var out []Posture
	index := map[string]int{}
	for rows.Next() {
		var seq, col, rcv sql.NullInt64
		d, err := scanDevice(rows, &seq, &col, &rcv)
		if err != nil {
			return nil, fmt.Errorf("read postures: %w", err)
		}
		p := Posture{Device: d}
		if seq.Valid {
			p.Latest = &Report{DeviceID: d.ID, Sequence: uint64(seq.Int64),
				CollectedAt: fromNanos(col.Int64), ReceivedAt: fromNanos(rcv.Int64)}
		}
		index[d.ID] = len(out)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read postures: %w", err)
	}
	fails, err := s.r.QueryContext(ctx, `SELECT device_id, control_id, first_failed_at FROM control_failures`)
	if err != nil {
		return nil, fmt.Errorf("read control failures: %w", err)
	}
	defer fails.Close()
	for fails.Next() {
		var dev, id string
		var at int64
		if err := fails.Scan(&dev, &id, &at); err != nil {
			return nil, fmt.Errorf("read control failures: %w", err)
		}
		i, ok := index[dev]
		if !ok {
			continue // enrolled after the first query
		}
		if out[i].FirstFailed == nil {
			out[i].FirstFailed = map[checks.ControlID]time.Time{}
		}
		out[i].FirstFailed[checks.ControlID(id)] = fromNanos(at)
	}
	if err := fails.Err(); err != nil {
		return nil, fmt.Errorf("read control failures: %w", err)
	}
	return out, nil
}
