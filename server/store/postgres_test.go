package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/store/pgtest"
)

// replicas opens n stores on one new PostgreSQL database, as n server
// replicas would, all at once so that their migrations race too.
func replicas(t *testing.T, n int) []Store {
	t.Helper()
	dsn := pgtest.DSN(t)
	stores := make([]Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = OpenPostgres(context.Background(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	return stores
}

func TestReplicasShareAPostgresDatabase(t *testing.T) {
	ctx := context.Background()
	rs := replicas(t, 4)
	a, b := rs[0], rs[1]

	t.Run("servers starting together apply each migration once", func(t *testing.T) {
		var n, max int
		err := a.(*sqlStore).r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(migrations) || max != len(migrations) {
			t.Errorf("schema_migrations has %d rows up to %d, want %d", n, max, len(migrations))
		}
	})

	t.Run("racing audit appends keep one gapless chain", func(t *testing.T) {
		const perReplica = 25
		var conflicts sync.Map
		var wg sync.WaitGroup
		errs := make(chan error, len(rs)*perReplica)
		for i, s := range rs {
			wg.Go(func() {
				for j := range perReplica {
					if err := appendWithRetry(ctx, s, fmt.Sprintf("r%d-%d", i, j), &conflicts); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rows, err := b.AuditRows(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(rs)*perReplica {
			t.Fatalf("%d audit rows, want %d", len(rows), len(rs)*perReplica)
		}
		prev := ""
		for i, r := range rows {
			if r.Seq != uint64(i+1) || r.PrevHash != prev {
				t.Fatalf("row %d: seq %d prev %q, want seq %d prev %q", i, r.Seq, r.PrevHash, i+1, prev)
			}
			prev = r.Hash
		}
		head, _, err := a.State(ctx, AuditHeadState)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%d %s", len(rows), prev); string(head) != want {
			t.Errorf("audit head = %q, want %q", head, want)
		}
		if _, ok := conflicts.Load(true); !ok {
			t.Log("no append lost a race this time; the chain is still checked")
		}
	})

	t.Run("a token enrolls one device when two replicas redeem it at once", func(t *testing.T) {
		for i := range 20 {
			_, tok, err := NewEnrollToken([32]byte{}, time.Hour, "org", "owner", t0)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for k, s := range []Store{a, b} {
				wg.Go(func() {
					id := fmt.Sprintf("tok%d-dev%d", i, k)
					_, errs[k] = s.Enroll(ctx, tok.Hash, Device{ID: id, CertSHA256: "c-" + id}, t0)
				})
			}
			wg.Wait()
			ok, used := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrTokenUsed):
					used++
				default:
					t.Fatalf("enroll: %v", err)
				}
			}
			if ok != 1 || used != 1 {
				t.Fatalf("token %d: %d enrolled, %d refused as used; want 1 and 1", i, ok, used)
			}
		}
	})

	t.Run("reports of one device sent through two replicas are stored once, in order", func(t *testing.T) {
		enrollTest(t, a, "roaming")
		const reports = 30
		var wg sync.WaitGroup
		errs := make(chan error, 2*reports)
		for _, s := range []Store{a, b} {
			wg.Go(func() {
				for seq := uint64(1); seq <= reports; seq++ {
					_, err := s.IngestReport(ctx, deviceIngest("roaming", seq, fmt.Sprint(seq)))
					if err != nil && !errors.Is(err, ErrSequenceReplayed) {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("ingest: %v", err)
		}
		var want []uint64
		for seq := uint64(reports); seq >= 1; seq-- {
			want = append(want, seq)
		}
		if diff := cmp.Diff(want, historySeqs(t, b, "roaming")); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})

	t.Run("an API key ID created by two replicas at once is a conflict for one", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for k, s := range []Store{a, b} {
			wg.Go(func() {
				errs[k] = s.CreateAPIKey(ctx, APIKey{ID: "0123456789abcdef", Name: fmt.Sprint("gw", k), Hash: "h", CreatedAt: t0})
			})
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), ErrConflict) {
			t.Errorf("errors = %v, want one nil and one ErrConflict", errs)
		}
	})
}

// appendWithRetry appends one audit row after the current tail, as
// server/audit does, retrying when another replica appended first.
func appendWithRetry(ctx context.Context, s Store, actor string, conflicts *sync.Map) error {
	for range 1000 {
		tail, err := s.AuditTail(ctx)
		if err != nil {
			return err
		}
		r := AuditRow{Seq: tail.Seq + 1, At: t0, Actor: actor, Kind: "test", Details: []byte(`{}`),
			PrevHash: tail.Hash, Hash: fmt.Sprintf("%s>%d", actor, tail.Seq+1)}
		err = s.AppendAudit(ctx, r)
		if !errors.Is(err, ErrConflict) {
			return err
		}
		conflicts.Store(true, true)
	}
	return errors.New("append audit: too many conflicts")
}

func TestOpenPostgresKeepsThePasswordOutOfErrors(t *testing.T) {
	for _, tt := range []struct{ name, dsn string }{
		{"a URL", "postgres://postern:s3cret-pw@127.0.0.1:1/postern?sslmode=disable&connect_timeout=5"},
		{"key=value pairs", "host=127.0.0.1 port=1 user=postern password=s3cret-pw dbname=postern sslmode=disable connect_timeout=5"},
		{"a URL that does not parse", "postgres://postern:s3cret-pw@127.0.0.1:1/postern?sslmode=bogus"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenPostgres(context.Background(), tt.dsn)
			if err == nil {
				t.Fatal("opened a store on a closed port")
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestUniqueViolationsAreRecognised(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := b.openNew(t).(*sqlStore)
		insert := func(id string, name any) error {
			_, err := s.w.ExecContext(context.Background(), s.q(`INSERT INTO api_keys (id, name, hash, created_at) VALUES (?, ?, 'h', 0)`), id, name)
			return err
		}
		if err := insert("k", "gw"); err != nil {
			t.Fatal(err)
		}
		if err := insert("k", "gw"); !isUniqueViolation(err) {
			t.Errorf("a duplicate key: isUniqueViolation(%v) = false", err)
		}
		if err := insert("k2", nil); err == nil || isUniqueViolation(err) {
			t.Errorf("a NULL name: err = %v, want an error that is no unique violation", err)
		}
	})
}
