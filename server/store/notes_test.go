package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/store"
)

func TestNotes(t *testing.T) {
	store.ForEachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
		_, tok, err := store.NewEnrollToken([32]byte{}, time.Hour, "Eastside Clinic", "maria.garcia", now)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		dev := store.Device{ID: "dev_1", CertSHA256: strings.Repeat("ab", 32), CertNotAfter: now.AddDate(0, 3, 0), Info: checks.Device{Hostname: "WS-1", OS: "windows"}}
		if _, err := st.Enroll(ctx, tok.Hash, dev, now); err != nil {
			t.Fatal(err)
		}
		var notes store.NoteStore = st
		tests := []struct {
			name     string
			note     store.Note
			wantErr  bool
			notFound bool
		}{
			{name: "a note on a known device is kept", note: store.Note{DeviceID: "dev_1", Author: "ana", Body: "Called the owner about the firewall.", CreatedAt: now}},
			{name: "a later note is kept too", note: store.Note{DeviceID: "dev_1", Author: "ana", Body: "Owner turned it back on.", CreatedAt: now.Add(time.Hour)}},
			{name: "an empty note is refused", note: store.Note{DeviceID: "dev_1", Author: "ana", Body: "  \n", CreatedAt: now}, wantErr: true},
			{name: "a note over the length limit is refused", note: store.Note{DeviceID: "dev_1", Author: "ana", Body: strings.Repeat("é", store.MaxNoteLen+1), CreatedAt: now}, wantErr: true},
			{name: "a note on an unknown device is not found", note: store.Note{DeviceID: "dev_nope", Author: "ana", Body: "hello", CreatedAt: now}, wantErr: true, notFound: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := notes.AddNote(ctx, tt.note)
				if (err != nil) != tt.wantErr {
					t.Fatalf("AddNote error %v, want error %v", err, tt.wantErr)
				}
				if tt.notFound && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("error %v, want ErrNotFound", err)
				}
				if err == nil && !strings.HasPrefix(got.ID, "note_") {
					t.Errorf("ID %q", got.ID)
				}
			})
		}
		t.Run("notes come back newest first", func(t *testing.T) {
			got, err := notes.Notes(ctx, "dev_1", 0)
			if err != nil {
				t.Fatal(err)
			}
			var bodies []string
			for _, n := range got {
				bodies = append(bodies, n.Author+": "+n.Body)
			}
			want := []string{"ana: Owner turned it back on.", "ana: Called the owner about the firewall."}
			if diff := cmp.Diff(want, bodies); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	})
}
