package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxNoteLen bounds a note's body, in characters.
const MaxNoteLen = 1000

// MaxNotesPerDevice bounds what Notes returns: the newest notes first.
const MaxNotesPerDevice = 200

// Note is a short remark an analyst left on a device.
type Note struct {
	ID       string
	DeviceID string
	// Author is the dashboard user name of whoever wrote it.
	Author    string
	Body      string
	CreatedAt time.Time
}

// NoteStore keeps device notes; part of Store.
type NoteStore interface {
	// AddNote stores n, filling its ID; ErrNotFound if the device does
	// not exist. The body must be 1 to MaxNoteLen characters of valid
	// UTF-8.
	AddNote(ctx context.Context, n Note) (Note, error)
	// Notes returns the device's notes, newest first, at most limit (at
	// most MaxNotesPerDevice).
	Notes(ctx context.Context, deviceID string, limit int) ([]Note, error)
}

var _ NoteStore = (*sqlStore)(nil)

func (s *sqlStore) AddNote(ctx context.Context, n Note) (Note, error) {
	if n.Author == "" || n.DeviceID == "" {
		return Note{}, errors.New("add note: author and device are required")
	}
	if strings.TrimSpace(n.Body) == "" || !utf8.ValidString(n.Body) || utf8.RuneCountInString(n.Body) > MaxNoteLen {
		return Note{}, fmt.Errorf("add note: the body must be 1 to %d characters", MaxNoteLen)
	}
	n.ID = "note_" + strings.ToLower(rand.Text())
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM devices WHERE id = ?`), n.DeviceID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("add note: %w", err)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO device_notes (id, device_id, author, body, created_at) VALUES (?, ?, ?, ?, ?)`),
			n.ID, n.DeviceID, n.Author, n.Body, nanos(n.CreatedAt))
		if err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		return nil
	})
	if err != nil {
		return Note{}, err
	}
	return n, nil
}

func (s *sqlStore) Notes(ctx context.Context, deviceID string, limit int) ([]Note, error) {
	if limit <= 0 || limit > MaxNotesPerDevice {
		limit = MaxNotesPerDevice
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, device_id, author, body, created_at FROM device_notes
		WHERE device_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`), deviceID, limit)
	if err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		var at int64
		if err := rows.Scan(&n.ID, &n.DeviceID, &n.Author, &n.Body, &at); err != nil {
			return nil, fmt.Errorf("read notes: %w", err)
		}
		n.CreatedAt = fromNanos(at)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	return out, nil
}
