package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/checks"
	pb "github.com/postern-dev/postern/proto"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func openTest(t testing.TB, dir string) Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func enrollTest(t testing.TB, s Store, id string) Device {
	t.Helper()
	ctx := context.Background()
	_, tok, err := NewEnrollToken([32]byte{}, time.Hour, "clinic-a", "alice", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	d, err := s.Enroll(ctx, tok.Hash, Device{ID: id, CertSHA256: "sha-" + id, CertNotAfter: t0.Add(24 * time.Hour), Info: checks.Device{Hostname: "h-" + id, OS: "linux"}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestEnroll(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t)
		_, fresh, _ := NewEnrollToken([32]byte{}, time.Hour, "org", "owner", t0)
		_, expired, _ := NewEnrollToken([32]byte{}, time.Hour, "", "", t0.Add(-2*time.Hour))
		for _, tok := range []Token{fresh, expired} {
			if err := s.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name    string
			hash    string
			id      string
			wantErr error
		}{
			{"a fresh token enrolls a device", fresh.Hash, "dev-1", nil},
			{"the same token cannot enroll twice", fresh.Hash, "dev-2", ErrTokenUsed},
			{"an expired token is refused", expired.Hash, "dev-3", ErrTokenExpired},
			{"an unknown token is refused", HashSecret([]byte("nope")), "dev-4", ErrTokenInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Enroll(ctx, tt.hash, Device{ID: tt.id, CertSHA256: "c-" + tt.id}, t0)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			})
		}
		t.Run("the device carries the token's labels", func(t *testing.T) {
			d, err := s.DeviceByCert(ctx, "c-dev-1")
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != "dev-1" || d.Org != "org" || d.Owner != "owner" || !d.EnrolledAt.Equal(t0) {
				t.Errorf("device = %+v", d)
			}
		})
		t.Run("a refused enrollment creates no device", func(t *testing.T) {
			if _, err := s.Device(ctx, "dev-2"); !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
		})
	})
}

func ingest(seq uint64, hash string, failing ...checks.ControlID) Ingest {
	at := t0.Add(time.Duration(seq) * time.Minute)
	return Ingest{
		Report:  Report{DeviceID: "dev", Sequence: seq, Hash: hash, CollectedAt: at, ReceivedAt: at, Body: []byte(fmt.Sprintf(`{"seq":%d}`, seq))},
		Info:    checks.Device{Hostname: "laptop", OS: "windows"},
		Failing: failing,
	}
}

func TestIngestReport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t)
		enrollTest(t, s, "dev")
		steps := []struct {
			name          string
			in            Ingest
			wantDuplicate bool
			wantErr       error
		}{
			{"the first report is stored", ingest(1, "a", checks.Firewall), false, nil},
			{"a retransmission of the same report is a duplicate", ingest(1, "a", checks.Firewall), true, nil},
			{"the same sequence with other content is a replay", ingest(1, "b"), false, ErrSequenceReplayed},
			{"a higher sequence is stored", ingest(5, "c", checks.Firewall, checks.Antivirus), false, nil},
			{"a lower sequence is a replay", ingest(3, "d"), false, ErrSequenceReplayed},
			{"sequence zero is refused", ingest(0, "e"), false, nil},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				dup, err := s.IngestReport(ctx, st.in)
				if st.in.Sequence == 0 {
					if err == nil {
						t.Fatal("want an error")
					}
					return
				}
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("err = %v, want %v", err, st.wantErr)
				}
				if dup != st.wantDuplicate {
					t.Errorf("duplicate = %v, want %v", dup, st.wantDuplicate)
				}
			})
		}
		t.Run("history holds each stored report once", func(t *testing.T) {
			h, err := s.History(ctx, "dev", 10)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, r := range h {
				seqs = append(seqs, r.Sequence)
			}
			if diff := cmp.Diff([]uint64{5, 1}, seqs); diff != "" {
				t.Errorf("sequences (-want +got):\n%s", diff)
			}
		})
		t.Run("posture has the latest report and first-failure times", func(t *testing.T) {
			p, err := s.Posture(ctx, "dev")
			if err != nil {
				t.Fatal(err)
			}
			if p.Latest == nil || p.Latest.Sequence != 5 || string(p.Latest.Body) != `{"seq":5}` {
				t.Fatalf("latest = %+v", p.Latest)
			}
			want := map[checks.ControlID]time.Time{
				checks.Firewall:  t0.Add(1 * time.Minute), // first failed in report 1
				checks.Antivirus: t0.Add(5 * time.Minute),
			}
			if diff := cmp.Diff(want, p.FirstFailed); diff != "" {
				t.Errorf("first failed (-want +got):\n%s", diff)
			}
			if p.Device.Info.OS != "windows" {
				t.Errorf("device info not updated: %+v", p.Device.Info)
			}
		})
		t.Run("a passing control clears its failure", func(t *testing.T) {
			if _, err := s.IngestReport(ctx, ingest(6, "f", checks.Antivirus)); err != nil {
				t.Fatal(err)
			}
			p, err := s.Posture(ctx, "dev")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[checks.ControlID]time.Time{checks.Antivirus: t0.Add(5 * time.Minute)}, p.FirstFailed); diff != "" {
				t.Errorf("first failed (-want +got):\n%s", diff)
			}
		})
		t.Run("an unknown device cannot report", func(t *testing.T) {
			in := ingest(1, "x")
			in.DeviceID = "ghost"
			if _, err := s.IngestReport(ctx, in); !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
		})
		t.Run("a revoked device cannot report", func(t *testing.T) {
			if err := s.Revoke(ctx, "dev", t0); err != nil {
				t.Fatal(err)
			}
			if _, err := s.IngestReport(ctx, ingest(7, "g")); !errors.Is(err, ErrDeviceRevoked) {
				t.Errorf("err = %v, want ErrDeviceRevoked", err)
			}
		})
	})
}

func TestPostureOfDeviceWithoutReports(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := b.openNew(t)
		enrollTest(t, s, "dev")
		p, err := s.PostureByCert(context.Background(), "sha-dev")
		if err != nil {
			t.Fatal(err)
		}
		if p.Device.ID != "dev" || p.Latest != nil || p.FirstFailed != nil {
			t.Errorf("posture = %+v", p)
		}
		if _, err := s.PostureByCert(context.Background(), "unknown"); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestHistoryIsBounded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		if testing.Short() {
			t.Skip("inserts over a thousand reports")
		}
		ctx := context.Background()
		s := b.openNew(t)
		enrollTest(t, s, "dev")
		for seq := uint64(1); seq <= MaxHistoryPerDevice+5; seq++ {
			if _, err := s.IngestReport(ctx, ingest(seq, fmt.Sprint(seq))); err != nil {
				t.Fatal(err)
			}
		}
		h, err := s.History(ctx, "dev", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != MaxHistoryPerDevice || h[len(h)-1].Sequence != 6 {
			t.Errorf("history has %d rows, oldest %d", len(h), h[len(h)-1].Sequence)
		}
		t.Run("prune keeps the latest report", func(t *testing.T) {
			n, err := s.Prune(ctx, t0.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if n != MaxHistoryPerDevice {
				t.Errorf("pruned %d", n)
			}
			p, err := s.Posture(ctx, "dev")
			if err != nil || p.Latest == nil || p.Latest.Sequence != MaxHistoryPerDevice+5 {
				t.Errorf("latest after prune = %+v, %v", p.Latest, err)
			}
		})
	})
}

func TestReopenKeepsState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		place := b.place(t)
		s, err := b.open(ctx, place)
		if err != nil {
			t.Fatal(err)
		}
		enrollTest(t, s, "dev")
		if _, err := s.IngestReport(ctx, ingest(1, "a")); err != nil {
			t.Fatal(err)
		}
		_, key, _ := NewAPIKey("gateway", t0)
		if err := s.CreateAPIKey(ctx, key); err != nil {
			t.Fatal(err)
		}
		s.Close()

		s2 := b.openAt(t, place)
		p, err := s2.Posture(ctx, "dev")
		if err != nil || p.Latest == nil || p.Latest.Sequence != 1 {
			t.Fatalf("posture after reopen = %+v, %v", p, err)
		}
		got, err := s2.APIKey(ctx, key.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(key, got); diff != "" {
			t.Errorf("api key (-want +got):\n%s", diff)
		}
		if b.name == "sqlite" && runtime.GOOS != "windows" {
			fi, err := os.Stat(filepath.Join(place, DBFile))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("database mode %#o, want 0600", fi.Mode().Perm())
			}
		}
	})
}

func TestSecrets(t *testing.T) {
	t.Run("an enrollment token parses back and pins the CA", func(t *testing.T) {
		pin := sha256.Sum256([]byte("ca"))
		s, rec, err := NewEnrollToken(pin, DefaultTokenTTL, "o", "u", t0)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := pb.ParseEnrollToken(s)
		if err != nil {
			t.Fatal(err)
		}
		if tok.CAPin != pin || HashSecret(tok.Secret) != rec.Hash || !rec.ExpiresAt.Equal(t0.Add(72*time.Hour)) {
			t.Errorf("token %+v record %+v", tok, rec)
		}
	})
	t.Run("an API key parses to its stored hash", func(t *testing.T) {
		s, rec, err := NewAPIKey("gw", t0)
		if err != nil {
			t.Fatal(err)
		}
		id, hash, ok := ParseAPIKey(s)
		if !ok || id != rec.ID || !HashesEqual(hash, rec.Hash) {
			t.Errorf("parse %q = %q %q %v", s, id, hash, ok)
		}
	})
	for _, bad := range []string{"", "pk_", "pk_zz", "Bearer x", "pk_0123456789abcdef_short", "pk_0123456789abcdeg_" + string(make([]byte, 43))} {
		t.Run(fmt.Sprintf("the key %q is rejected", bad), func(t *testing.T) {
			if _, _, ok := ParseAPIKey(bad); ok {
				t.Error("accepted")
			}
		})
	}
	t.Run("an empty API key name is refused", func(t *testing.T) {
		if _, _, err := NewAPIKey("  ", t0); err == nil {
			t.Error("accepted")
		}
	})
}

func TestRebind(t *testing.T) {
	got := rebind(placeholderDollar, `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`)
	if want := `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`; got != want {
		t.Errorf("rebind = %q, want %q", got, want)
	}
}
