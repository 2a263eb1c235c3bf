package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postern-dev/postern/server/audit"
)

func TestAPIKeyListAndRevoke(t *testing.T) {
	dir := serverDir(t)
	key, errOut, code := run(t, "apikey", "create", "--name", "nginx-east", "--data", dir)
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	// A key is pk_<ID>_<secret>.
	id := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(key), "pk_"), "_", 2)[0]
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"the new key is listed as active by ID and name", []string{"apikey", "list", "--data", dir}, 0, id + "  nginx-east"},
		{"the listing never shows the secret", []string{"apikey", "list", "--data", dir, "--json"}, 0, `"name": "nginx-east"`},
		{"revoking an unknown key is an error", []string{"apikey", "revoke", "0000000000000000", "--data", dir}, 1, "no api key"},
		{"revoking without an ID is a usage error", []string{"apikey", "revoke", "--data", dir}, 2, ""},
		{"the key is revoked", []string{"apikey", "revoke", id, "--reason", "gateway retired", "--data", dir}, 0, "revoked " + id + " (nginx-east)"},
		{"revoking it again says it already is", []string{"apikey", "revoke", id, "--data", dir}, 1, "already revoked"},
		{"the key is listed as revoked", []string{"apikey", "list", "--data", dir}, 0, "revoked 20"},
		{"creation and revocation are audited", []string{"audit", "export", "--data", dir}, 0, `"kind":"apikey_revoked"`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, errOut, code := run(t, s.args...)
			if code != s.wantCode || !strings.Contains(out+errOut, s.want) {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, s.wantCode, out, errOut, s.want)
			}
			if strings.Contains(out, strings.TrimSpace(key)) {
				t.Error("the output holds the key's secret")
			}
		})
	}
	t.Run("the audit row names the key and the reason", func(t *testing.T) {
		out, _, _ := run(t, "audit", "export", "--data", dir)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var row struct {
				Kind    string            `json:"kind"`
				Details map[string]string `json:"details"`
			}
			if json.Unmarshal([]byte(line), &row) != nil || row.Kind != audit.KindAPIKeyRevoked {
				continue
			}
			if row.Details["id"] != id || row.Details["reason"] != "gateway retired" {
				t.Errorf("details %v", row.Details)
			}
			return
		}
		t.Error("no apikey_revoked row")
	})
}
