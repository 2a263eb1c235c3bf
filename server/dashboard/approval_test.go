package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

func TestEnrollmentApprovalPage(t *testing.T) {
	e := newEnv(t, hostile())
	e.addUser("admin", users.RoleAdmin)
	e.addUser("analyst", users.RoleAnalyst)
	ctx := context.Background()
	for _, id := range []string{"dev_good", "dev_hostile"} {
		if err := e.st.SetApproval(ctx, id, store.ApprovalPending); err != nil {
			t.Fatal(err)
		}
	}
	admin := e.signIn("admin")
	t.Run("a pending device's page says so and offers approve and deny to an admin", func(t *testing.T) {
		body := admin.get("/ui/devices/dev_good").body
		for _, want := range []string{"waiting for an administrator&#39;s approval", "/ui/devices/dev_good/approve", "/ui/devices/dev_good/deny", "enrollment_pending"} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
	tests := []struct {
		name, user, path string
		csrf             bool
		want             int
	}{
		{"an analyst cannot approve", "analyst", "/ui/devices/dev_good/approve", true, http.StatusForbidden},
		{"an admin's form without the CSRF token is refused", "admin", "/ui/devices/dev_good/approve", false, http.StatusForbidden},
		{"an admin approves", "admin", "/ui/devices/dev_good/approve", true, http.StatusSeeOther},
		{"a device no longer pending cannot be approved again", "admin", "/ui/devices/dev_good/approve", true, http.StatusConflict},
		{"an admin denies the other", "admin", "/ui/devices/dev_hostile/deny", true, http.StatusSeeOther},
		{"an unknown device is not found", "admin", "/ui/devices/nope/approve", true, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.signIn(tt.user)
			form := url.Values{"csrf": {""}}
			if tt.csrf {
				form.Set("csrf", c.csrf("/ui/password"))
			}
			if r := c.post(tt.path, form); r.status != tt.want {
				t.Errorf("status %d, want %d", r.status, tt.want)
			}
		})
	}
	t.Run("the approved device is active, the denied one revoked, both audited with who answered", func(t *testing.T) {
		good, _ := e.st.Device(ctx, "dev_good")
		bad, _ := e.st.Device(ctx, "dev_hostile")
		if good.Approval != "" || good.Revoked() || bad.Approval != store.ApprovalDenied || !bad.Revoked() {
			t.Errorf("good %q revoked=%v, hostile %q revoked=%v", good.Approval, good.Revoked(), bad.Approval, bad.Revoked())
		}
		body := admin.get("/ui/audit").body
		for _, want := range []string{"device_approved", "device_denied", "user:admin"} {
			if !strings.Contains(body, want) {
				t.Errorf("audit page lacks %q", want)
			}
		}
	})
}
