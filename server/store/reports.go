package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
)

func (s *sqlStore) IngestReport(ctx context.Context, in Ingest) (bool, error) {
	if err := checkSequence(in.Sequence); err != nil {
		return false, fmt.Errorf("ingest report: %w", err)
	}
	duplicate := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var last, revoked int64
		var lastHash string
		err := s.queryRow(ctx, tx, qDeviceSequence, in.DeviceID).Scan(&last, &lastHash, &revoked)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return fmt.Errorf("read device sequence: %w", err)
		case revoked != 0:
			return ErrDeviceRevoked
		}
		seq := int64(in.Sequence)
		if seq == last && HashesEqual(lastHash, in.Hash) {
			duplicate = true
			return nil
		}
		if seq <= last {
			return ErrSequenceReplayed
		}
		return s.storeReport(ctx, tx, in)
	})
	if err != nil {
		return false, err
	}
	return duplicate, nil
}

func (s *sqlStore) storeReport(ctx context.Context, tx *sql.Tx, in Ingest) error {
	seq, col, rcv := int64(in.Sequence), nanos(in.CollectedAt), nanos(in.ReceivedAt)
	body := string(in.Body)
	if _, err := s.exec(ctx, tx, qInsertReport,
		in.DeviceID, seq, in.Hash, col, rcv, body); err != nil {
		return fmt.Errorf("insert report: %w", err)
	}
	if _, err := s.exec(ctx, tx, qUpsertLatest,
		in.DeviceID, seq, in.Hash, col, rcv, body); err != nil {
		return fmt.Errorf("update latest report: %w", err)
	}
	i := in.Info
	if _, err := s.exec(ctx, tx, qUpdateDevice,
		seq, in.Hash, rcv, i.Hostname, i.OS, i.OSName, i.OSVersion, i.Arch, in.DeviceID); err != nil {
		return fmt.Errorf("update device: %w", err)
	}
	if err := s.updateFailures(ctx, tx, in.DeviceID, in.Failing, rcv); err != nil {
		return err
	}
	// Keep the history bounded; the subquery is empty (NULL) until the
	// device has more than MaxHistoryPerDevice reports.
	if _, err := s.exec(ctx, tx, qTrimHistory,
		in.DeviceID, in.DeviceID, MaxHistoryPerDevice); err != nil {
		return fmt.Errorf("trim history: %w", err)
	}
	return nil
}

func (s *sqlStore) updateFailures(ctx context.Context, tx *sql.Tx, deviceID string, failing []checks.ControlID, at int64) error {
	del := `DELETE FROM control_failures WHERE device_id = ?`
	args := []any{deviceID}
	if len(failing) > 0 {
		del += ` AND control_id NOT IN (?` + strings.Repeat(`, ?`, len(failing)-1) + `)`
		for _, id := range failing {
			args = append(args, string(id))
		}
	}
	if _, err := s.exec(ctx, tx, del, args...); err != nil {
		return fmt.Errorf("clear control failures: %w", err)
	}
	for _, id := range failing {
		if _, err := s.exec(ctx, tx, qInsertFailure, deviceID, string(id), at); err != nil {
			return fmt.Errorf("record control failure: %w", err)
		}
	}
	return nil
}

const postureQuery = `SELECT ` + deviceColumns + `, l.sequence, l.hash, l.collected_at, l.received_at, l.body
	FROM devices d LEFT JOIN latest_reports l ON l.device_id = d.id WHERE `

func (s *sqlStore) Posture(ctx context.Context, deviceID string) (Posture, error) {
	return s.posture(ctx, `d.id = ?`, deviceID)
}

func (s *sqlStore) PostureByCert(ctx context.Context, certSHA256 string) (Posture, error) {
	return s.posture(ctx, `d.cert_sha256 = ?`, certSHA256)
}

func (s *sqlStore) posture(ctx context.Context, where, arg string) (Posture, error) {
	var seq, col, rcv sql.NullInt64
	var hash, body sql.NullString
	d, err := scanDevice(s.r.QueryRowContext(ctx, s.q(postureQuery+where), arg), &seq, &hash, &col, &rcv, &body)
	if err != nil {
		return Posture{}, err
	}
	p := Posture{Device: d}
	if seq.Valid {
		p.Latest = &Report{DeviceID: d.ID, Sequence: uint64(seq.Int64), Hash: hash.String,
			CollectedAt: fromNanos(col.Int64), ReceivedAt: fromNanos(rcv.Int64), Body: []byte(body.String)}
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT control_id, first_failed_at FROM control_failures WHERE device_id = ?`), d.ID)
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
	qDeviceSequence = `SELECT last_sequence, last_hash, revoked_at FROM devices WHERE id = ?`
	qInsertReport   = `INSERT INTO reports (device_id, sequence, hash, collected_at, received_at, body) VALUES (?, ?, ?, ?, ?, ?)`
	qUpsertLatest   = `INSERT INTO latest_reports (device_id, sequence, hash, collected_at, received_at, body) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash,
		collected_at = excluded.collected_at, received_at = excluded.received_at, body = excluded.body`
	qUpdateDevice = `UPDATE devices SET last_sequence = ?, last_hash = ?, last_seen_at = ?,
		hostname = ?, os = ?, os_name = ?, os_version = ?, arch = ? WHERE id = ?`
	qInsertFailure = `INSERT INTO control_failures (device_id, control_id, first_failed_at) VALUES (?, ?, ?)
			ON CONFLICT (device_id, control_id) DO NOTHING`
	qTrimHistory = `DELETE FROM reports WHERE device_id = ? AND sequence <=
		(SELECT sequence FROM reports WHERE device_id = ? ORDER BY sequence DESC LIMIT 1 OFFSET ?)`
)

var hotStatements = []string{qDeviceSequence, qInsertReport, qUpsertLatest, qUpdateDevice, qInsertFailure, qTrimHistory}
