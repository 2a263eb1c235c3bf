package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/store"
)

// keyedFixture is a log of 3 unkeyed rows (written before the upgrade),
// then keyed in dir with `rows` more rows and a checkpoint after each.
func keyedFixture(t *testing.T, rows int) (*fixture, string) {
	t.Helper()
	f := newFixture(t, 3)
	dir := t.TempDir()
	if err := f.log.OpenKeyed(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	cp := NewCheckpointer(f.log, CheckpointPath(dir), nil)
	for i := range rows {
		f.now = f.now.Add(time.Hour)
		if _, err := f.log.Append(t.Context(), Entry{Actor: "alice", Kind: KindAdmin, Details: map[string]int{"keyed": i}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := cp.Write(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return f, dir
}

// verifyAll is `audit verify --checkpoints`: the chain, then the
// checkpoints, problems in row order.
func verifyAll(t *testing.T, l *Log, dir string) []Problem {
	t.Helper()
	res, err := l.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cres, err := l.VerifyCheckpoints(t.Context(), CheckpointPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	all := append(res.Problems, cres.Problems...)
	SortProblems(all)
	return all
}

func TestKeyedChain(t *testing.T) {
	t.Run("an upgraded chain keeps its old rows and keys the new ones", func(t *testing.T) {
		f, dir := keyedFixture(t, 4)
		fi, err := os.Stat(KeyPath(dir))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("audit.key mode %v, want 0600", fi.Mode().Perm())
		}
		kr, err := LoadKeyring(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := kr.Keys[0].FromSeq; got != 4 {
			t.Errorf("key from row %d, want 4 (the row after the 3 unkeyed ones)", got)
		}
		res, err := f.log.Verify(t.Context())
		if err != nil || !res.OK() || !res.Keyed || res.UnkeyedThrough != 3 || res.Rows != 8 {
			t.Errorf("verify = %+v, %v; want 8 rows, keyed after row 3, no problems", res, err)
		}
		if p := verifyAll(t, f.log, dir); len(p) != 0 {
			t.Errorf("problems: %v", p)
		}
	})

	t.Run("a writer who rewrites rows, chain and head is named at the first forged row", func(t *testing.T) {
		f, dir := keyedFixture(t, 4) // rows 1-3 unkeyed, 4 key start, 5-8 keyed
		// The attack of issue 16: edit row 6, recompute every hash after
		// it (with the only hash the writer can compute) and the head.
		rows, err := f.st.AuditRows(t.Context(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		prev := ""
		for i, r := range rows {
			if r.Seq == 6 {
				r.Details = []byte(`{"keyed":1,"forged":true}`)
			}
			if r.Seq >= 6 {
				r.PrevHash = prev
				r.Hash = Hash(r)
				f.exec(t, `UPDATE audit_log SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?`, string(r.Details), r.PrevHash, r.Hash, r.Seq)
				rows[i] = r
			}
			prev = r.Hash
		}
		last := rows[len(rows)-1]
		f.exec(t, `UPDATE server_state SET value = ? WHERE name = ?`, formatSeq(last.Seq)+" "+last.Hash, store.AuditHeadState)

		p := verifyAll(t, f.log, dir)
		if len(p) == 0 {
			t.Fatal("the forged chain verifies")
		}
		if p[0].Seq != 6 || !strings.Contains(p[0].Msg, "audit key") {
			t.Errorf("first problem %v, want row 6 named as not matching the audit key; all: %v", p[0], p)
		}
	})

	t.Run("rows deleted from the end with the head set back are caught by the checkpoints", func(t *testing.T) {
		f, dir := keyedFixture(t, 4)
		rows, _ := f.st.AuditRows(t.Context(), 5, 1)
		f.exec(t, `DELETE FROM audit_log WHERE seq > 6`)
		f.exec(t, `UPDATE server_state SET value = ? WHERE name = ?`, "6 "+rows[0].Hash, store.AuditHeadState)
		res, err := f.log.Verify(t.Context())
		if err != nil || !res.OK() {
			t.Fatalf("the chain alone: %+v, %v (a rollback leaves it intact; the checkpoints must catch it)", res, err)
		}
		var got []uint64
		for _, p := range verifyAll(t, f.log, dir) {
			got = append(got, p.Seq)
		}
		if diff := cmp.Diff([]uint64{7, 8}, got); diff != "" {
			t.Errorf("rows named (-want +got):\n%s", diff)
		}
	})

	t.Run("deleting every keyed row is named at the key's first row", func(t *testing.T) {
		f, dir := keyedFixture(t, 2)
		rows, _ := f.st.AuditRows(t.Context(), 2, 1)
		f.exec(t, `DELETE FROM audit_log WHERE seq > 3`)
		f.exec(t, `UPDATE server_state SET value = ? WHERE name = ?`, "3 "+rows[0].Hash, store.AuditHeadState)
		res, err := f.log.Verify(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) == 0 || res.Problems[0].Seq != 4 {
			t.Errorf("problems %v, want row 4 (where the key starts) named", res.Problems)
		}
		_ = dir
	})

	t.Run("an edited checkpoint file is named", func(t *testing.T) {
		f, dir := keyedFixture(t, 2)
		b, _ := os.ReadFile(CheckpointPath(dir))
		os.WriteFile(CheckpointPath(dir), []byte(strings.Replace(string(b), `"seq":6`, `"seq":5`, 1)), 0o600)
		p := verifyAll(t, f.log, dir)
		if len(p) != 1 || !strings.Contains(p[0].Msg, "no valid signature") {
			t.Errorf("problems %v, want one invalid signature", p)
		}
	})

	t.Run("no checkpoint at all does not pass", func(t *testing.T) {
		f, dir := keyedFixture(t, 0)
		p := verifyAll(t, f.log, dir)
		if len(p) != 1 || !strings.Contains(p[0].Msg, "no validly signed checkpoint") {
			t.Errorf("problems %v, want 'no validly signed checkpoint'", p)
		}
	})

	t.Run("a rotated key authenticates the rows after it and the old ones still verify", func(t *testing.T) {
		f, dir := keyedFixture(t, 2)
		k, err := f.log.RotateKey(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if k.FromSeq != 7 {
			t.Errorf("new key from row %d, want 7", k.FromSeq)
		}
		reopened := New(f.st, func() time.Time { return f.now }, nil)
		if err := reopened.OpenKeyed(t.Context(), dir); err != nil {
			t.Fatal(err)
		}
		if _, err := reopened.Append(t.Context(), Entry{Actor: "alice", Kind: KindAdmin}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := NewCheckpointer(reopened, CheckpointPath(dir), nil).Write(t.Context()); err != nil {
			t.Fatal(err)
		}
		if p := verifyAll(t, reopened, dir); len(p) != 0 {
			t.Errorf("problems after rotation: %v", p)
		}
		if kr := reopened.Keys(); len(kr.Keys) != 2 {
			t.Errorf("%d keys, want 2", len(kr.Keys))
		}
	})

	t.Run("a replica without the key file refuses to key the chain again", func(t *testing.T) {
		f, _ := keyedFixture(t, 1)
		other := New(f.st, nil, nil)
		err := other.OpenKeyed(t.Context(), t.TempDir())
		if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "copy audit.key") {
			t.Errorf("err = %v, want ErrNoKey telling to copy audit.key", err)
		}
	})

	t.Run("a key file others can read is refused", func(t *testing.T) {
		_, dir := keyedFixture(t, 0)
		if err := os.Chmod(filepath.Join(dir, KeyFile), 0o640); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyring(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("err = %v, want a refusal naming chmod 600", err)
		}
	})
}
