package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// addNote stores an analyst's note on a device. The body is kept as
// written (templates escape it) but bounded and stripped of control
// characters other than newlines, so that it cannot forge lines in an
// export.
func (d *Dashboard) addNote(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id := r.PathValue("id")
	body := cleanNote(r.PostForm.Get("note"))
	if body == "" || utf8.RuneCountInString(body) > store.MaxNoteLen {
		d.fail(w, r, s, http.StatusBadRequest, fmt.Sprintf("A note is 1 to %d characters.", store.MaxNoteLen))
		return
	}
	n, err := d.st.AddNote(r.Context(), store.Note{DeviceID: id, Author: s.User.Username, Body: body, CreatedAt: d.now()})
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such device.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.audit(r, s, audit.KindNoteAdded, id, map[string]any{"note_id": n.ID, "chars": utf8.RuneCountInString(body)})
	http.Redirect(w, r, "/ui/devices/"+pathEscape(id)+"?done=note#history", http.StatusSeeOther)
}

// cleanNote trims s, turns CRLF into LF and drops other control
// characters and invalid UTF-8.
func cleanNote(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
