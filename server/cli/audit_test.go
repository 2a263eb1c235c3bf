package cli

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// TestAuditVerifyCheckpoints keys a data directory as the server does at
// start, appends through the command line, checkpoints, then rewrites the
// database as a writer without the key would: row, every later hash and
// the head. verify --checkpoints must fail and name the row first.
func TestAuditVerifyCheckpoints(t *testing.T) {
	dir := enrolled(t)
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := audit.New(st, nil, nil)
	if err := l.OpenKeyed(ctx, dir); err != nil {
		t.Fatal(err)
	}
	runOK(t, "device", "revoke", "dev1", "--data", dir, "--by", "carol", "--reason", "stolen")
	runOK(t, "token", "create", "--data", dir)
	if _, _, err := audit.NewCheckpointer(l, audit.CheckpointPath(dir), nil).Write(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("an intact keyed log and its checkpoints verify", func(t *testing.T) {
		out, errOut, code := run(t, "audit", "verify", "--checkpoints", "--data", dir)
		if code != 0 || !strings.Contains(out, "ok: 4 rows") || !strings.Contains(out, "checkpoints: 1 signed, the latest at row 4") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("verify without the key names the missing key instead of every row", func(t *testing.T) {
		key := audit.KeyPath(dir)
		if err := os.Rename(key, key+".away"); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(key+".away", key)
		out, errOut, code := run(t, "audit", "verify", "--data", dir)
		if code != 1 || !strings.Contains(errOut, "keyed since row 1") || strings.Contains(out, "edited") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("a rewritten row, chain and head fail and the row is named first", func(t *testing.T) {
		db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(dir, store.DBFile)))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := st.AuditRows(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		prev := rows[0].Hash
		for _, r := range rows[1:] {
			if r.Seq == 2 {
				r.Actor = "nobody"
			}
			r.PrevHash = prev
			r.Hash = audit.Hash(r)
			prev = r.Hash
			if _, err := db.Exec(`UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?`, r.Actor, r.PrevHash, r.Hash, r.Seq); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(`UPDATE server_state SET value = ? WHERE name = ?`, fmt.Sprintf("%d %s", rows[len(rows)-1].Seq, prev), store.AuditHeadState); err != nil {
			t.Fatal(err)
		}
		out, _, code := run(t, "audit", "verify", "--checkpoints", "--data", dir)
		first, _, _ := strings.Cut(out, "\n")
		if code != 1 || !strings.HasPrefix(first, "row 2: edited") || !strings.Contains(out, "differs from the signed checkpoint") {
			t.Errorf("exit %d, stdout %q; want exit 1, row 2 named first and the checkpoint mismatch", code, out)
		}
	})
}

func runOK(t *testing.T, args ...string) {
	t.Helper()
	if out, errOut, code := run(t, args...); code != 0 {
		t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
	}
}
