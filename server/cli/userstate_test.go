package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUserLifecycleCommands(t *testing.T) {
	dir := serverDir(t)
	for _, args := range [][]string{
		{"user", "add", "root-admin", "--role", "admin", "--first-name", "Rosa", "--last-name", "Diaz", "--data", dir},
		{"user", "add", "carl", "--role", "analyst", "--first-name", "Carl", "--last-name", "Ng", "--data", dir},
	} {
		if _, errOut, code := run(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"disabling an account says so", []string{"user", "disable", "carl", "--data", dir}, 0, "disabled carl"},
		{"the list shows it disabled", []string{"user", "list", "--data", dir}, 0, "disabled"},
		{"disabling the last enabled admin fails", []string{"user", "disable", "root-admin", "--data", dir}, 1, ""},
		{"deleting the last enabled admin fails", []string{"user", "delete", "root-admin", "--data", dir}, 1, ""},
		{"enabling it again says so", []string{"user", "enable", "carl", "--data", dir}, 0, "enabled carl"},
		{"a review is recorded", []string{"user", "review", "carl", "--note", "still in the SOC", "--data", dir}, 0, "reviewed carl"},
		{"the JSON list has the review date", []string{"user", "list", "--json", "--data", dir}, 0, `"review": "current"`},
		{"deleting an account says so", []string{"user", "delete", "carl", "--data", dir}, 0, "deleted carl"},
		{"deleting it again fails", []string{"user", "delete", "carl", "--data", dir}, 1, ""},
		{"disabling an unknown account fails", []string{"user", "disable", "nobody", "--data", dir}, 1, ""},
		{"review without an account name is a usage error", []string{"user", "review", "--data", dir}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("code %d, stdout %q, stderr %q; want code %d, stdout containing %q", code, out, errOut, tt.wantCode, tt.wantOut)
			}
		})
	}
	t.Run("every change is audited under the OS account", func(t *testing.T) {
		out, errOut, code := run(t, "audit", "export", "--data", dir)
		if code != 0 {
			t.Fatalf("audit export: exit %d: %s", code, errOut)
		}
		var kinds []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var row struct {
				Kind, Actor string
				Details     map[string]any
			}
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatalf("export line %q: %v", line, err)
			}
			if row.Details["user"] != "carl" || row.Kind == "user_created" {
				continue
			}
			if !strings.HasPrefix(row.Actor, "os:") {
				t.Errorf("%s by %q, want the OS account", row.Kind, row.Actor)
			}
			kinds = append(kinds, row.Kind)
		}
		if got, want := strings.Join(kinds, " "), "user_disabled user_enabled user_reviewed user_deleted"; got != want {
			t.Errorf("audit kinds %q, want %q", got, want)
		}
	})
}
