package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
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

func TestAPIKeyCreateFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want *APIKeyCreateOptions // nil: refused
	}{
		{"without --scope the key is a gateway's and does not expire", []string{"--name", "gw"},
			&APIKeyCreateOptions{Name: "gw", Scopes: store.GatewayScopes}},
		{"scopes may be comma-separated and repeated", []string{"--name", "ops", "--scope", "audit:read,devices:read", "--scope", "admin", "--expires", "90d"},
			&APIKeyCreateOptions{Name: "ops", Scopes: []store.Scope{store.ScopeDevicesRead, store.ScopeAuditRead, store.ScopeAdmin}, Expires: 90 * 24 * time.Hour}},
		{"an unknown scope is a usage error", []string{"--name", "x", "--scope", "devices:delete"}, nil},
		{"an empty scope list is a usage error", []string{"--name", "x", "--scope", ""}, nil},
		{"a negative lifetime is a usage error", []string{"--name", "x", "--expires", "-1h"}, nil},
		{"a name is required", []string{"--scope", "admin"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *APIKeyCreateOptions
			d := NewFactory(io.Discard, io.Discard, "test", time.Now)
			cmd := NewCmdAPIKeyCreate(d, func(_ context.Context, o *APIKeyCreateOptions) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tc.want == nil {
				if err == nil || got != nil {
					t.Fatalf("accepted: options %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.DB = StoreOptions{}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(StoreOptions{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPIKeyScopedCreate(t *testing.T) {
	dir := serverDir(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	runAt := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := RunAt(context.Background(), args, &out, &errb, "test", func() time.Time { return at })
		return out.String(), errb.String(), code
	}
	key, errOut, code := runAt("apikey", "create", "--name", "siem-export", "--scope", "audit:read", "--expires", "90d", "--data", dir)
	if code != 0 || !strings.HasPrefix(key, "pk_") {
		t.Fatalf("create: exit %d, stdout %q, stderr %q", code, key, errOut)
	}
	id := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(key), "pk_"), "_", 2)[0]
	t.Run("the listing shows scopes, owner and expiry, never the secret", func(t *testing.T) {
		out, _, code := runAt("apikey", "list", "--json", "--data", dir)
		var got []APIKeyJSON
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 {
			t.Fatalf("exit %d, stdout %q", code, out)
		}
		want := APIKeyJSON{ID: id, Name: "siem-export", Scopes: []store.Scope{store.ScopeAuditRead}, Owner: osActor(), State: "active",
			CreatedAt: at, ExpiresAt: at.Add(90 * 24 * time.Hour)}
		if diff := cmp.Diff(want, got[0]); diff != "" {
			t.Errorf("key (-want +got):\n%s", diff)
		}
		if strings.Contains(out, strings.TrimSpace(key)[20:]) {
			t.Error("the listing holds the secret")
		}
	})
	t.Run("after its expiry the key is listed as expired", func(t *testing.T) {
		at = at.Add(91 * 24 * time.Hour)
		out, _, _ := runAt("apikey", "list", "--data", dir)
		if !strings.Contains(out, "audit:read") || !strings.Contains(out, "expired") {
			t.Errorf("list:\n%s", out)
		}
	})
	t.Run("the creation is audited with the scopes and expiry", func(t *testing.T) {
		out, _, _ := runAt("audit", "export", "--data", dir)
		if !strings.Contains(out, `"kind":"apikey_created"`) || !strings.Contains(out, `"scopes":"audit:read"`) || !strings.Contains(out, `"expires_at":"2026-04-02T03:04:05Z"`) {
			t.Errorf("audit export:\n%s", out)
		}
	})
}
