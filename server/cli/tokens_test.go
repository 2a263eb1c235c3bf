package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTokenListAndRevoke(t *testing.T) {
	dir := serverDir(t)
	if _, errOut, code := run(t, "token", "create", "--org", "clinic-a", "--owner", "bob", "--data", dir); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code := run(t, "token", "list", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	var ts []tokenJSON
	if err := json.Unmarshal([]byte(out), &ts); err != nil || len(ts) != 1 {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if ts[0].State != "unused" || ts[0].Org != "clinic-a" || len(ts[0].ID) != tokenIDLen {
		t.Errorf("token %+v", ts[0])
	}
	id := ts[0].ID
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"a short ID is a usage error", []string{"token", "revoke", "abc"}, 2, ""},
		{"an unknown ID fails", []string{"token", "revoke", "0123456789ab"}, 1, ""},
		{"revoking the unused token works", []string{"token", "revoke", id, "--reason", "laptop returned"}, 0, "revoked token " + id},
		{"revoking it again says it has expired", []string{"token", "revoke", id}, 1, ""},
		{"the list shows it expired", []string{"token", "list"}, 0, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, append(tt.args, "--data", dir)...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("exit %d (want %d), stdout %q (want %q), stderr %q", code, tt.wantCode, out, tt.wantOut, errOut)
			}
		})
	}
	if out, _, _ := run(t, "audit", "export", "--data", dir); !strings.Contains(out, `"token_revoked"`) || !strings.Contains(out, "laptop returned") {
		t.Errorf("the revocation is not audited:\n%s", out)
	}
}
