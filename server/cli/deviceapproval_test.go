package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/store"
)

// pendingDevices returns a data dir holding the pending devices ids, as
// an enrollment.approve: manual server enrolls them.
func pendingDevices(t *testing.T, ids ...string) string {
	t.Helper()
	dir := serverDir(t)
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := clock.Now()
	for _, id := range ids {
		_, tok, _ := store.NewEnrollToken([32]byte{}, time.Hour, "clinic-a", "alice", now)
		if err := st.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		dev := store.Device{ID: id, CertSHA256: "c-" + id, CertNotAfter: now.Add(time.Hour), Approval: store.ApprovalPending}
		if _, err := st.Enroll(ctx, tok.Hash, dev, now); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDeviceApproval(t *testing.T) {
	dir := pendingDevices(t, "dev-a", "dev-d")
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"a pending device is listed as pending", []string{"device", "list", "--data", dir}, 0, "pending"},
		{"and denied with the reason enrollment_pending", []string{"device", "show", "dev-a", "--data", dir}, 0, "enrollment_pending"},
		{"approve needs --by", []string{"device", "approve", "dev-a", "--data", dir}, 2, ""},
		{"deny needs a reason", []string{"device", "deny", "dev-d", "--by", "ana", "--data", dir}, 2, ""},
		{"approve admits it", []string{"device", "approve", "dev-a", "--by", "ana", "--data", dir}, 0, "approved dev-a"},
		{"it is active and judged on its posture (no report yet)", []string{"device", "show", "dev-a", "--data", dir}, 0, "no_report"},
		{"an approved device cannot be approved again", []string{"device", "approve", "dev-a", "--by", "ana", "--data", dir}, 1, ""},
		{"deny refuses the other", []string{"device", "deny", "dev-d", "--by", "ana", "--reason", "not ours", "--data", dir}, 0, "denied dev-d"},
		{"a denied device says so", []string{"device", "show", "dev-d", "--data", dir}, 0, "enrollment_denied"},
		{"and cannot be approved afterwards", []string{"device", "approve", "dev-d", "--by", "ana", "--data", dir}, 1, ""},
		{"both answers are audited with who gave them", []string{"audit", "export", "--data", dir}, 0, `"actor":"ana"`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, errOut, code := run(t, s.args...)
			if code != s.wantCode || !strings.Contains(out, s.wantOut) {
				t.Fatalf("exit %d (want %d), stdout %q (want %q), stderr %q", code, s.wantCode, out, s.wantOut, errOut)
			}
		})
	}
	out, _, _ := run(t, "audit", "export", "--data", dir)
	for _, want := range []string{`"kind":"device_approved"`, `"kind":"device_denied"`, `"reason":"not ours"`} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}
