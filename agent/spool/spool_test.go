package spool

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func report(seq uint64, at time.Time, pad int) *pb.Report {
	return &pb.Report{
		Sequence:            seq,
		CollectedAtUnixNano: at.UnixNano(),
		Device:              &pb.DeviceInfo{Hostname: "laptop", Os: "linux"},
		Controls:            []*pb.ControlFacts{{Id: "firewall", FactsJson: []byte(`{"pad":"` + strings.Repeat("x", pad) + `"}`)}},
	}
}

func seqs(t *testing.T, s *Spool) []uint64 {
	t.Helper()
	rs, err := s.Pending()
	if err != nil {
		t.Fatal(err)
	}
	out := []uint64{}
	for _, r := range rs {
		out = append(out, r.GetSequence())
	}
	return out
}

type recorder struct{ got []Discard }

func (r *recorder) add(d Discard) { r.got = append(r.got, d) }

func open(t *testing.T, dir string, opts Options) *Spool {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSpoolOrderAndAck(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	for _, seq := range []uint64{3, 1, 12, 2} {
		if err := s.Add(report(seq, t0, 10)); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("pending reports come back in sequence order", func(t *testing.T) {
		if diff := cmp.Diff([]uint64{1, 2, 3, 12}, seqs(t, s)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a pending report is the report that was added", func(t *testing.T) {
		rs, _ := s.Pending()
		if !proto.Equal(rs[0], report(1, t0, 10)) {
			t.Errorf("got %v", rs[0])
		}
	})
	t.Run("an ack removes every report up to its sequence", func(t *testing.T) {
		if err := s.Ack(2); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]uint64{3, 12}, seqs(t, s)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("the reports survive reopening the spool", func(t *testing.T) {
		s2 := open(t, dir, Options{})
		if diff := cmp.Diff([]uint64{3, 12}, seqs(t, s2)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if n, _ := s2.Len(); n != 2 {
			t.Errorf("Len = %d", n)
		}
	})
	t.Run("an ack of an unknown sequence is harmless", func(t *testing.T) {
		if err := s.Ack(100); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.Len(); n != 0 {
			t.Errorf("Len = %d", n)
		}
	})
}

func TestSpoolLimits(t *testing.T) {
	size := int64(len(mustMarshal(t, report(1, t0, 1000))))
	tests := []struct {
		name        string
		opts        Options
		add         []*pb.Report
		want        []uint64
		wantDiscard []Discard
	}{
		{
			name: "reports older than the age limit are dropped",
			opts: Options{MaxAge: 7 * 24 * time.Hour},
			add:  []*pb.Report{report(1, t0.Add(-8*24*time.Hour), 1000), report(2, t0.Add(-6*24*time.Hour), 1000), report(3, t0, 1000)},
			want: []uint64{2, 3}, wantDiscard: []Discard{{1, ReasonExpired}},
		},
		{
			name: "the oldest reports are dropped first to stay under the size limit",
			opts: Options{MaxBytes: 2*size + size/2},
			add:  []*pb.Report{report(1, t0, 1000), report(2, t0, 1000), report(3, t0, 1000), report(4, t0, 1000)},
			want: []uint64{3, 4}, wantDiscard: []Discard{{1, ReasonSize}, {2, ReasonSize}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			tt.opts.OnDiscard = rec.add
			s := open(t, t.TempDir(), tt.opts)
			for _, r := range tt.add {
				if err := s.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, seqs(t, s)); diff != "" {
				t.Errorf("pending (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDiscard, rec.got); diff != "" {
				t.Errorf("discards (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a report larger than the spool is refused", func(t *testing.T) {
		s := open(t, t.TempDir(), Options{MaxBytes: 100})
		if err := s.Add(report(1, t0, 1000)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
}

func TestSpoolQuarantinesCorruptFiles(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
	}{
		{"garbage bytes are quarantined", []byte{0xff, 0xff, 0xff, 0x01}},
		{"a file whose sequence differs from its name is quarantined", mustMarshal(t, report(99, t0, 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			rec := &recorder{}
			s := open(t, dir, Options{OnDiscard: rec.add})
			_ = s.Add(report(1, t0, 1))
			_ = s.Add(report(3, t0, 1))
			if err := os.WriteFile(filepath.Join(dir, fileName(2)), tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]uint64{1, 3}, seqs(t, s)); diff != "" {
				t.Errorf("pending (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]Discard{{2, ReasonCorrupt}}, rec.got); diff != "" {
				t.Errorf("discards (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(filepath.Join(dir, quarantineDir, fileName(2))); err != nil {
				t.Errorf("quarantined file: %v", err)
			}
		})
	}
	t.Run("stray files and temp files are ignored", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir, Options{})
		_ = os.WriteFile(filepath.Join(dir, "README"), []byte("hi"), 0o600)
		_ = os.WriteFile(filepath.Join(dir, "."+fileName(5)+".tmp-1"), []byte("partial"), 0o600)
		if got := seqs(t, s); len(got) != 0 {
			t.Errorf("pending = %v", got)
		}
	})
}

func mustMarshal(t *testing.T, r *pb.Report) []byte {
	t.Helper()
	b, err := proto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func BenchmarkAddPendingAck(b *testing.B) {
	s, _ := Open(b.TempDir(), Options{})
	r := report(0, clock.Now(), 4000)
	for i := range b.N {
		r.Sequence = uint64(i + 1)
		if err := s.Add(r); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Pending(); err != nil {
			b.Fatal(err)
		}
		if err := s.Ack(r.Sequence); err != nil {
			b.Fatal(err)
		}
	}
}
