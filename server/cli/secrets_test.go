package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	pb "github.com/postern-dev/postern/proto"
)

func TestEnrollSecretCommands(t *testing.T) {
	dir := t.TempDir()
	if out, errOut, code := run(t, "init", "--data", dir); code != 0 {
		t.Fatalf("init: exit %d: %s %s", code, out, errOut)
	}
	out, errOut, code := run(t, "secret", "create", "--data", dir, "--org", "clinic-a", "--owner", "it", "--max-uses", "5", "--expires", "90d")
	if code != 0 || !regexp.MustCompile(`^pt1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
		t.Fatalf("create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := pb.ParseEnrollToken(out); err != nil {
		t.Fatalf("the secret is not accepted by the agent's parser: %v", err)
	}
	secretPart := strings.Split(out, ".")[1]
	id := regexp.MustCompile(`secret ([0-9a-f]{12})`).FindStringSubmatch(errOut)
	if id == nil {
		t.Fatalf("stderr names no ID: %q", errOut)
	}
	t.Run("list shows the secret's ID, labels and uses, never the secret", func(t *testing.T) {
		out, _, code := run(t, "secret", "list", "--data", dir)
		if code != 0 || !strings.Contains(out, id[1]) || !strings.Contains(out, "0/5") || !strings.Contains(out, "active") ||
			strings.Contains(out, secretPart) {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	t.Run("revoke revokes it and list says so", func(t *testing.T) {
		if out, errOut, code := run(t, "secret", "revoke", "--data", dir, id[1]); code != 0 {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		out, _, _ := run(t, "secret", "list", "--data", dir, "--json")
		var got []secretJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 || got[0].State != "revoked" {
			t.Errorf("list --json = %s (%v)", out, err)
		}
	})
	t.Run("creation and revocation are audited without the secret", func(t *testing.T) {
		out, _, code := run(t, "audit", "export", "--data", dir)
		if code != 0 || !strings.Contains(out, "enroll_secret_created") || !strings.Contains(out, "enroll_secret_revoked") ||
			strings.Contains(out, secretPart) {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"a secret without an org is a usage error", []string{"secret", "create", "--data", dir}},
		{"an expiry in the past is a usage error", []string{"secret", "create", "--data", dir, "--org", "o", "--expires", "2001-01-01"}},
		{"a negative use limit is a usage error", []string{"secret", "create", "--data", dir, "--org", "o", "--max-uses", "-1"}},
		{"revoking an unknown secret is a usage error", []string{"secret", "revoke", "--data", dir, "0123456789ab"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, errOut, code := run(t, tc.args...); code != 2 {
				t.Errorf("exit %d, want 2: %s", code, errOut)
			}
		})
	}
}
