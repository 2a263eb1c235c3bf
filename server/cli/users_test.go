package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUserCommands(t *testing.T) {
	dir := serverDir(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"adding a user prints a temporary password", []string{"user", "add", "alice", "--role", "approver", "--first-name", "Alice", "--last-name", "Moreau", "--data", dir}, 0, ""},
		{"adding the same user again is a usage error", []string{"user", "add", "alice", "--role", "viewer", "--first-name", "Alice", "--last-name", "Moreau", "--data", dir}, 2, ""},
		{"an unknown role is a usage error", []string{"user", "add", "bob", "--role", "root", "--first-name", "Bob", "--last-name", "Stone", "--data", dir}, 2, ""},
		{"the list shows the new user must change its password", []string{"user", "list", "--data", dir}, 0, "must-change-password"},
		{"the JSON list has the account and no password hash", []string{"user", "list", "--json", "--data", dir}, 0, `"username": "alice"`},
		{"unlocking a known user succeeds", []string{"user", "unlock", "alice", "--data", dir}, 0, "unlocked alice"},
		{"resetting a password prints a new temporary one", []string{"user", "reset-password", "alice", "--data", dir}, 0, ""},
		{"resetting an unknown user's password fails", []string{"user", "reset-password", "nobody", "--data", dir}, 1, ""},
		{"unlocking an unknown user is a usage error", []string{"user", "unlock", "nobody", "--data", dir}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("code %d, stdout %q, stderr %q; want code %d, stdout containing %q", code, out, errOut, tt.wantCode, tt.wantOut)
			}
			if (tt.name == "adding a user prints a temporary password" || tt.name == "resetting a password prints a new temporary one") && len(strings.TrimSpace(out)) != 20 {
				t.Errorf("stdout %q is not a 20-character password", out)
			}
		})
	}
	t.Run("adding and unlocking are audited like the dashboard's, under the OS account", func(t *testing.T) {
		out, errOut, code := run(t, "audit", "export", "--data", dir)
		if code != 0 {
			t.Fatalf("audit export: exit %d: %s", code, errOut)
		}
		var kinds []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var row struct{ Kind, Actor string }
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatalf("export line %q: %v", line, err)
			}
			if !strings.HasPrefix(row.Kind, "user_") && row.Kind != "password_reset" {
				continue // the server's creation (init)
			}
			if !strings.HasPrefix(row.Actor, "os:") {
				t.Errorf("%s by %q, want the OS account", row.Kind, row.Actor)
			}
			kinds = append(kinds, row.Kind)
		}
		if got, want := strings.Join(kinds, " "), "user_created user_unlocked password_reset"; got != want {
			t.Errorf("audit kinds %q, want %q", got, want)
		}
	})
}
