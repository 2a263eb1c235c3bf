package dashboard

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/users"
)

func TestAuditDetails(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []detailPair
	}{
		{"an object reads as key: value lines in order", `{"user":"carl","reason":"inactive","inactive_after_days":90}`,
			[]detailPair{{"inactive after days", "90"}, {"reason", "inactive"}, {"user", "carl"}}},
		{"nested objects are flattened and lists joined", `{"hash":"ab12","impact":{"active":50,"newly_denied":40,"examples":["ws-1","ws-2"]}}`,
			[]detailPair{{"hash", "ab12"}, {"impact.active", "50"}, {"impact.examples", "ws-1, ws-2"}, {"impact.newly denied", "40"}}},
		{"empty values show a dash", `{"note":"","list":[],"none":null}`,
			[]detailPair{{"list", "—"}, {"none", "—"}, {"note", "—"}}},
		{"large numbers stay as written", `{"seq":18446744073709551615}`, []detailPair{{"seq", "18446744073709551615"}}},
		{"what is not an object is one line", `"plain"`, []detailPair{{"details", "plain"}}},
		{"what is not JSON is shown as it is", `not json`, []detailPair{{"details", "not json"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, auditDetails([]byte(tc.in))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuditPageShowsDetailsAsText(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("admin", users.RoleAdmin)
	body := e.signIn("admin").get("/ui/audit").body
	if !strings.Contains(body, "<dt>user</dt><dd>admin</dd>") {
		t.Error("the audit page lacks the user_created row's details as key: value")
	}
	if strings.Contains(body, `{&#34;`) || strings.Contains(body, `{"`) {
		t.Error("the audit page shows raw JSON")
	}
}
