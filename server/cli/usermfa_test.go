package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestUserMFACommands(t *testing.T) {
	dir := serverDir(t)
	if _, errOut, code := run(t, "user", "add", "dana", "--role", "analyst", "--first-name", "Dana", "--last-name", "Kim", "--data", dir); code != 0 {
		t.Fatalf("user add: exit %d: %s", code, errOut)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"requiring MFA says so", []string{"user", "mfa-require", "on", "--data", dir}, 0, "now required"},
		{"a word other than on or off is a usage error", []string{"user", "mfa-require", "yes", "--data", dir}, 2, ""},
		{"a reset says whose factors went", []string{"user", "mfa-reset", "dana", "--data", dir}, 0, "second factors of dana"},
		{"a reset of an unknown account fails", []string{"user", "mfa-reset", "nobody", "--data", dir}, 1, ""},
		{"no longer requiring MFA says so", []string{"user", "mfa-require", "off", "--data", dir}, 0, "no longer required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("code %d, stdout %q, stderr %q; want code %d, stdout containing %q", code, out, errOut, tt.wantCode, tt.wantOut)
			}
		})
	}
	out, errOut, code := run(t, "audit", "export", "--data", dir)
	if code != 0 {
		t.Fatalf("audit export: exit %d: %s", code, errOut)
	}
	for _, kind := range []string{`"mfa_requirement_changed"`, `"mfa_reset"`} {
		if strings.Count(out, kind) == 0 {
			t.Errorf("the audit export lacks %s", kind)
		}
	}
}

func TestUserListShowsSecondFactors(t *testing.T) {
	dir := serverDir(t)
	if _, errOut, code := run(t, "user", "add", "dana", "--role", "analyst", "--first-name", "Dana", "--last-name", "Kim", "--data", dir); code != 0 {
		t.Fatalf("user add: exit %d: %s", code, errOut)
	}
	out, errOut, code := run(t, "user", "list", "--data", dir)
	if code != 0 || !strings.Contains(out, "MFA") || !regexp.MustCompile(`(?m)^dana .* none `).MatchString(out) {
		t.Errorf("user list: code %d, stdout %q, stderr %q; want dana's MFA none", code, out, errOut)
	}
	out, errOut, code = run(t, "user", "list", "--json", "--data", dir)
	var got []struct {
		Username string      `json:"username"`
		MFA      userMFAJSON `json:"mfa"`
	}
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("user list --json: code %d, %v, stderr %q", code, err, errOut)
	}
	if len(got) != 1 || got[0].MFA != (userMFAJSON{State: "none"}) {
		t.Errorf("user list --json: %+v, want dana with mfa state none", got)
	}
}
