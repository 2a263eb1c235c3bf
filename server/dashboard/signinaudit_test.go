package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/users"
)

// signIns is every user_signed_in entry's actor and details, oldest first.
func (e *env) signIns() []map[string]any {
	e.t.Helper()
	rows, err := e.st.AuditRows(context.Background(), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range rows {
		if r.Kind != audit.KindSignedIn {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(r.Details, &d); err != nil {
			e.t.Fatal(err)
		}
		d["actor"] = r.Actor
		out = append(out, d)
	}
	return out
}

func signInEntry(user, role, factor string) map[string]any {
	return map[string]any{"actor": "user:" + user, "user": user, "method": "password", "second_factor": factor,
		"role": role, "source": "127.0.0.1"}
}

func TestSignInsAreAudited(t *testing.T) {
	e := newMFAEnv(t)
	e.addUser("ana", users.RoleAnalyst)
	e.addUser("bo", users.RoleAdmin)

	e.signIn("bo")
	secret, codes := e.enrolTOTP(e.signIn("ana"))
	want := []map[string]any{signInEntry("bo", "admin", "none"), signInEntry("ana", "analyst", "none")}
	if diff := cmp.Diff(want, e.signIns()); diff != "" {
		t.Fatalf("password sign-ins without a second factor (-want +got):\n%s", diff)
	}

	// The password alone, then a wrong code: no session, so no sign-in
	// is recorded, not even a half one.
	e.clock.Add(time.Minute)
	c := e.client()
	c.password("ana")
	c.post("/ui/login/verify", url.Values{"method": {"totp"}, "code": {"000000"}})
	if diff := cmp.Diff(want, e.signIns()); diff != "" {
		t.Fatalf("a password without its second factor was audited as a sign-in (-want +got):\n%s", diff)
	}

	if r := c.post("/ui/login/verify", url.Values{"method": {"totp"}, "code": {e.totpCode(secret, 0)}}); r.status != http.StatusSeeOther {
		t.Fatalf("totp sign-in: %d", r.status)
	}
	want = append(want, signInEntry("ana", "analyst", "totp"))
	c = e.client()
	c.password("ana")
	if r := c.post("/ui/login/verify", url.Values{"method": {"recovery"}, "code": {codes[0]}}); r.status != http.StatusSeeOther {
		t.Fatalf("recovery code sign-in: %d", r.status)
	}
	want = append(want, signInEntry("ana", "analyst", "recovery_code"))
	if diff := cmp.Diff(want, e.signIns()); diff != "" {
		t.Errorf("sign-ins with a second factor (-want +got):\n%s", diff)
	}
}
