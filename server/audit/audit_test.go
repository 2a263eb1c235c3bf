package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	st  store.Store
	db  *sql.DB // raw access, for tampering
	log *Log
	now time.Time
}

func newFixture(t *testing.T, rows int) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(dir, store.DBFile)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{st: st, db: db, now: t0}
	f.log = New(st, func() time.Time { return f.now }, nil)
	for i := range rows {
		f.now = t0.Add(time.Duration(i) * time.Hour)
		if _, err := f.log.Append(t.Context(), Entry{Actor: "alice", Kind: KindAdmin, DeviceID: "dev", Details: map[string]int{"n": i + 1}}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func TestAppend(t *testing.T) {
	f := newFixture(t, 3)
	rows, err := f.st.AuditRows(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("rows = %d, want 3", len(rows))
	}
	t.Run("each row links to the previous one's hash", func(t *testing.T) {
		if rows[0].PrevHash != "" || rows[1].PrevHash != rows[0].Hash || rows[2].PrevHash != rows[1].Hash {
			t.Errorf("chain is not linked: %+v", rows)
		}
	})
	t.Run("each row's hash covers its fields", func(t *testing.T) {
		for _, r := range rows {
			if Hash(r) != r.Hash {
				t.Errorf("row %d hash mismatch", r.Seq)
			}
		}
	})
	t.Run("an entry without actor is refused", func(t *testing.T) {
		_, err := f.log.Append(t.Context(), Entry{Kind: KindAdmin})
		if !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("err = %v, want ErrInvalidEntry", err)
		}
	})
	t.Run("details that are not an object are refused", func(t *testing.T) {
		_, err := f.log.Append(t.Context(), Entry{Actor: "a", Kind: KindAdmin, Details: []int{1}})
		if !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("err = %v, want ErrInvalidEntry", err)
		}
	})
	t.Run("two logs over one store keep one chain", func(t *testing.T) {
		other := New(f.st, nil, nil)
		for range 3 {
			if _, err := other.Append(t.Context(), Entry{Actor: "bob", Kind: KindAdmin}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.log.Append(t.Context(), Entry{Actor: "alice", Kind: KindAdmin}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := f.log.Verify(t.Context())
		if err != nil || !res.OK() || res.Rows != 9 {
			t.Errorf("verify = %+v, %v; want 9 rows, no problems", res, err)
		}
	})
}

func TestHashIsUnambiguous(t *testing.T) {
	a := store.AuditRow{Seq: 1, At: t0, Actor: "ab", Kind: "c", Details: []byte("{}")}
	b := store.AuditRow{Seq: 1, At: t0, Actor: "a", Kind: "bc", Details: []byte("{}")}
	if Hash(a) == Hash(b) {
		t.Error("moving a byte between fields kept the hash")
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		want   []uint64 // rows named in problems
	}{
		{"an untouched chain verifies", func(*testing.T, *fixture) {}, nil},
		{"an edited detail is named", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_log SET details = '{"n":99}' WHERE seq = 3`)
		}, []uint64{3}},
		{"an edited row with a recomputed hash is named", func(t *testing.T, f *fixture) {
			rows, _ := f.st.AuditRows(context.Background(), 2, 1)
			r := rows[0]
			r.Actor = "mallory"
			f.exec(t, `UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 3`, r.Actor, Hash(r))
		}, []uint64{3}},
		{"a deleted row in the middle is named", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM audit_log WHERE seq = 2`)
		}, []uint64{2}},
		{"rows deleted from the end are named", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM audit_log WHERE seq >= 4`)
		}, []uint64{4}},
		{"a deleted first row is named", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM audit_log WHERE seq = 1`)
		}, []uint64{1}},
		{"an edited time is named", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_log SET at = at + 1 WHERE seq = 5`)
		}, []uint64{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 5)
			tt.tamper(t, f)
			res, err := f.log.Verify(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, p := range res.Problems {
				got = append(got, p.Seq)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows named (-want +got):\n%s\nproblems: %v", diff, res.Problems)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	t.Run("retention shorter than a year is refused", func(t *testing.T) {
		f := newFixture(t, 1)
		if _, err := f.log.Prune(t.Context(), 364*24*time.Hour); !errors.Is(err, ErrRetentionTooShort) {
			t.Errorf("err = %v, want ErrRetentionTooShort", err)
		}
	})
	t.Run("pruning old rows keeps the rest verifiable and is itself audited", func(t *testing.T) {
		f := newFixture(t, 5) // rows at t0 .. t0+4h
		f.now = t0.Add(MinRetention + 2*time.Hour + time.Minute)
		n, err := f.log.Prune(t.Context(), MinRetention)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("pruned %d rows, want 3", n)
		}
		res, err := f.log.Verify(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() || res.First != 4 || res.Last != 6 {
			t.Errorf("verify = %+v, want rows 4..6 intact", res)
		}
	})
	t.Run("deleting the first row after the anchor is named", func(t *testing.T) {
		f := newFixture(t, 5)
		f.now = t0.Add(MinRetention + 2*time.Hour + time.Minute)
		if _, err := f.log.Prune(t.Context(), MinRetention); err != nil {
			t.Fatal(err)
		}
		f.exec(t, `DELETE FROM audit_log WHERE seq = 4`)
		res, _ := f.log.Verify(t.Context())
		if res.OK() || res.Problems[0].Seq != 4 {
			t.Errorf("problems = %v, want row 4 named", res.Problems)
		}
	})
}

func TestExport(t *testing.T) {
	f := newFixture(t, 2)
	var buf bytes.Buffer
	if err := f.log.Export(t.Context(), &buf, 0); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines = %d, want 2", len(lines))
	}
	var r ExportRow
	if err := json.Unmarshal([]byte(lines[1]), &r); err != nil {
		t.Fatal(err)
	}
	want := ExportRow{Seq: 2, Time: t0.Add(time.Hour), Actor: "alice", Kind: KindAdmin, DeviceID: "dev", Details: json.RawMessage(`{"n":2}`)}
	if diff := cmp.Diff(want, r, cmp.FilterPath(func(p cmp.Path) bool {
		s := p.String()
		return s == "Hash" || s == "PrevHash"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("second line (-want +got):\n%s", diff)
	}
	t.Run("details keep <, > and & as written", func(t *testing.T) {
		reason := "laptop <CLINIC-7> returned & wiped"
		if _, err := f.log.Append(t.Context(), Entry{Actor: "alice", Kind: KindAdmin, Details: map[string]string{"reason": reason}}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := f.log.Export(t.Context(), &buf, 2); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `"reason":"`+reason+`"`) {
			t.Errorf("export %s does not hold %q as written", buf.String(), reason)
		}
	})
}

func TestDecisionRecorder(t *testing.T) {
	f := newFixture(t, 0)
	r := NewDecisionRecorder(f.log)
	at := t0.Add(10 * time.Minute)
	r.Observe("a", true, nil, at)
	r.Observe("a", true, nil, at)
	r.Observe("a", false, []string{"control_failed:firewall"}, at)
	r.Observe("a", false, []string{"control_failed:firewall"}, at)
	r.Observe("a", false, []string{"report_stale"}, at)
	r.Observe("b", false, []string{"report_stale"}, at.Add(time.Hour)) // next hour: flushes hour one
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r.Run(ctx) // drains the queue and flushes
	rows, err := f.st.AuditRows(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Kind, Device, Details string }
	var got []row
	for _, x := range rows {
		got = append(got, row{x.Kind, x.DeviceID, string(x.Details)})
	}
	// Deny rows and hourly counts are written by one goroutine but from
	// two queues, so only their sets are fixed, not their interleaving.
	sort.Slice(got, func(i, j int) bool {
		return got[i].Kind+got[i].Device+got[i].Details < got[j].Kind+got[j].Device+got[j].Details
	})
	want := []row{
		{KindDeny, "a", `{"first_this_hour":true,"reasons":["control_failed:firewall"]}`},
		{KindDeny, "a", `{"first_this_hour":true,"reasons":["report_stale"]}`},
		{KindDeny, "b", `{"first_this_hour":true,"reasons":["report_stale"]}`},
		{KindDecisionsHourly, "a", `{"allow":2,"deny":3,"hour":"2025-03-01T12:00:00Z"}`},
		{KindDecisionsHourly, "b", `{"allow":0,"deny":1,"hour":"2025-03-01T13:00:00Z"}`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
