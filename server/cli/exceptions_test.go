package cli

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/store"
)

// enrolled returns a data dir holding one enrolled device "dev1".
func enrolled(t *testing.T) string {
	t.Helper()
	dir := serverDir(t)
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := clock.Now()
	_, tok, _ := store.NewEnrollToken([32]byte{}, time.Hour, "clinic-a", "alice", now)
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Enroll(ctx, tok.Hash, store.Device{ID: "dev1", CertSHA256: "abc", CertNotAfter: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLifecycleCommands(t *testing.T) {
	dir := enrolled(t)
	for _, u := range [][]string{{"carol", "approver"}, {"ana", "admin"}} {
		if _, errOut, code := run(t, "user", "add", u[0], "--role", u[1], "--first-name", "F", "--last-name", "L", "--data", dir); code != 0 {
			t.Fatalf("user add %s: %s", u[0], errOut)
		}
	}
	var exID string
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		after    func(out string)
	}{
		{"granting an exception prints its ID", []string{"exception", "grant", "--data", dir, "--device", "dev1", "--control", "os_patched",
			"--reason", "vendor patch pending", "--approver", "carol", "--for", "720h"}, 0, "ex_", func(out string) { exID = strings.TrimSpace(out) }},
		{"an exception longer than a year is refused", []string{"exception", "grant", "--data", dir, "--org", "clinic-a", "--control", "firewall",
			"--reason", "r", "--approver", "carol", "--for", "8761h"}, 1, "", nil},
		{"an approver who is not an account is refused", []string{"exception", "grant", "--data", dir, "--org", "clinic-a", "--control", "firewall",
			"--reason", "r", "--approver", "mallory", "--for", "30d"}, 1, "", nil},
		{"an account that may not approve exceptions is refused", []string{"exception", "grant", "--data", dir, "--org", "clinic-a", "--control", "firewall",
			"--reason", "r", "--approver", "ana", "--for", "30d"}, 1, "", nil},
		{"without --approver the OS user is recorded", []string{"exception", "grant", "--data", dir, "--org", "clinic-a", "--control", "antivirus",
			"--reason", "AV migration", "--for", "30d"}, 0, "ex_", nil},
		{"the OS user shows as the approver", []string{"exception", "list", "--json", "--data", dir}, 0, `"approver": "os:`, nil},
		{"an exception for both a device and an org is a usage error", []string{"exception", "grant", "--data", dir, "--org", "x", "--device", "dev1",
			"--control", "firewall", "--reason", "r", "--approver", "carol", "--for", "1h"}, 2, "", nil},
		{"the exception is listed", []string{"exception", "list", "--data", dir}, 0, "vendor patch pending", nil},
		{"the device is listed as active", []string{"device", "list", "--data", dir}, 0, "active", nil},
		{"an attestation is recorded", []string{"attestation", "record", "--data", dir, "--device", "dev1", "--user", "alice",
			"--statement-version", "2025-1", "--by", "carol"}, 0, "at_", nil},
		{"revoking needs a reason", []string{"device", "revoke", "dev1", "--data", dir, "--by", "carol"}, 2, "", nil},
		{"revoking a device", []string{"device", "revoke", "dev1", "--data", dir, "--by", "carol", "--reason", "laptop stolen"}, 0, "revoked dev1", nil},
		{"revoking it again is an error", []string{"device", "revoke", "dev1", "--data", dir, "--by", "carol", "--reason", "again"}, 1, "", nil},
		{"the device is listed as revoked", []string{"device", "list", "--data", dir, "--json"}, 0, `"state": "revoked"`, nil},
		{"an untouched audit log verifies", []string{"audit", "verify", "--data", dir}, 0, "ok: 8 rows", nil},
		{"the audit log exports as JSON lines", []string{"audit", "export", "--data", dir}, 0, `"kind":"device_revoked"`, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, errOut, code := run(t, s.args...)
			if code != s.wantCode || !strings.Contains(out, s.wantOut) {
				t.Fatalf("exit %d (want %d), stdout %q (want %q), stderr %q", code, s.wantCode, out, s.wantOut, errOut)
			}
			if s.after != nil {
				s.after(out)
			}
		})
	}
	t.Run("ending the exception", func(t *testing.T) {
		out, errOut, code := run(t, "exception", "end", exID, "--data", dir, "--by", "dave")
		if code != 0 || !strings.Contains(out, "ended "+exID) {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("an edited audit row makes verify fail and name it", func(t *testing.T) {
		db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(dir, store.DBFile)))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		out, _, code := run(t, "audit", "verify", "--data", dir)
		if code != 1 || !strings.Contains(out, "row 2: edited") {
			t.Errorf("exit %d, stdout %q", code, out)
		}
	})
}

func TestPolicyCommands(t *testing.T) {
	dir := serverDir(t)
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("profiles:\n  clinic-a:\n    max_report_age: 30m\n"), 0o600)
	os.WriteFile(bad, []byte("controls:\n  firewall:\n    enforcement: sometimes\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"a valid file checks out with its profiles", []string{"policy", "check", good}, 0, "1 organization profiles"},
		{"an invalid file names the line", []string{"policy", "check", bad}, 1, "line 3"},
		{"status before the server ever ran says so", []string{"policy", "status", "--data", dir}, 1, "start postern-server serve"},
		{"accepting without a held change is refused", []string{"policy", "accept", "abc", "--approver", "carol", "--data", dir}, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, tt.wantCode, out, errOut, tt.want)
			}
		})
	}
}
