package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

func TestNotes(t *testing.T) {
	e := newEnv(t, hostile())
	e.addUser("viewer", users.RoleViewer)
	e.addUser("analyst", users.RoleAnalyst)
	note := func(body string) func(tok string) url.Values {
		return func(tok string) url.Values { return url.Values{"csrf": {tok}, "note": {body}} }
	}
	tests := []struct {
		name, user, path string
		form             func(tok string) url.Values
		want             int
	}{
		{"a viewer cannot add a note", "viewer", "/ui/devices/dev_good/notes", note("viewer was here"), http.StatusForbidden},
		{"an analyst's note without the CSRF token is refused", "analyst", "/ui/devices/dev_good/notes",
			func(string) url.Values { return note("no token")("") }, http.StatusForbidden},
		{"an empty note is refused", "analyst", "/ui/devices/dev_good/notes", note(" \r\n "), http.StatusBadRequest},
		{"a note over 1000 characters is refused", "analyst", "/ui/devices/dev_good/notes", note(strings.Repeat("a", store.MaxNoteLen+1)), http.StatusBadRequest},
		{"a note on an unknown device is not found", "analyst", "/ui/devices/dev_nope/notes", note("hello"), http.StatusNotFound},
		{"an analyst adds a note", "analyst", "/ui/devices/dev_good/notes", note("Called Maria: <b>firewall</b> back on\r\nafter the VPN update."), http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.signIn(tt.user)
			r := c.post(tt.path, tt.form(c.csrf("/ui/devices/dev_good")))
			if r.status != tt.want {
				t.Errorf("POST %s as %s: %d, want %d", tt.path, tt.user, r.status, tt.want)
			}
		})
	}
	t.Run("the note shows escaped on the device's timeline", func(t *testing.T) {
		body := e.signIn("viewer").get("/ui/devices/dev_good").body
		if !strings.Contains(body, "Note by analyst") || !strings.Contains(body, "Called Maria: &lt;b&gt;firewall&lt;/b&gt; back on\nafter the VPN update.") {
			t.Errorf("the device page lacks the escaped note:\n%s", body)
		}
		if strings.Contains(body, `id="add-note"`) {
			t.Error("a viewer is shown the note form")
		}
	})
	t.Run("only the analyst's note was stored", func(t *testing.T) {
		notes := e.st
		got, err := notes.Notes(context.Background(), "dev_good", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Author != "analyst" {
			t.Fatalf("notes %+v, want the analyst's one", got)
		}
	})
	t.Run("the note is audited without its text", func(t *testing.T) {
		aud := e.st
		rows, err := aud.SearchAudit(context.Background(), store.AuditFilter{Kind: audit.KindNoteAdded})
		if err != nil || len(rows) != 1 {
			t.Fatalf("audit rows %v, %v; want one", rows, err)
		}
		var details map[string]any
		if err := json.Unmarshal(rows[0].Details, &details); err != nil {
			t.Fatal(err)
		}
		got := map[string]any{"actor": rows[0].Actor, "device": rows[0].DeviceID, "chars": details["chars"]}
		want := map[string]any{"actor": "user:analyst", "device": "dev_good", "chars": float64(len("Called Maria: <b>firewall</b> back on\nafter the VPN update."))}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit row (-want +got):\n%s", diff)
		}
	})
}

func TestCleanNote(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain text is kept", "Owner on leave until Monday.", "Owner on leave until Monday."},
		{"windows line ends become newlines", "a\r\nb", "a\nb"},
		{"control and bidi characters are dropped", "ok\x1b[31m\u202eevil\x00", "ok[31mevil"},
		{"invalid UTF-8 is dropped", "caf\xc3", "caf"},
		{"surrounding space is trimmed", "  \n note \t\n", "note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanNote(tt.in); got != tt.want {
				t.Errorf("cleanNote(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDeviceListSaysStatusIsTheDecisionNow(t *testing.T) {
	e := newEnv(t, hostile())
	e.addUser("viewer", users.RoleViewer)
	body := e.signIn("viewer").get("/ui/devices").body
	if !strings.Contains(body, `id="status-note"`) || !strings.Contains(body, "the gateway's decision now") {
		t.Error("the device list does not say its status is the gateway's decision now")
	}
}
