package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/postern-dev/postern/agent/internal/atomicfile"
	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// Default limits.
const (
	DefaultMaxAge   = 7 * 24 * time.Hour
	DefaultMaxBytes = 10 << 20
)

const (
	suffix        = ".report"
	quarantineDir = "quarantine"
	// maxQuarantined bounds the quarantine folder; older files go first.
	maxQuarantined = 16
)

// Discard reasons reported to Options.OnDiscard.
const (
	ReasonExpired = "expired"
	ReasonSize    = "over_size_limit"
	ReasonCorrupt = "corrupt"
)

// Discard describes a report the spool gave up on.
type Discard struct {
	// Sequence is the report's sequence number (from its file name).
	Sequence uint64
	Reason   string
}

// Options configures a spool. Zero fields take the defaults.
type Options struct {
	// MaxAge drops reports collected longer ago than this.
	MaxAge time.Duration
	// MaxBytes bounds the total size of the spooled files.
	MaxBytes int64
	// Now is the clock; clock.Now by default.
	Now func() time.Time
	// Logger receives warnings about dropped and quarantined reports.
	Logger *slog.Logger
	// OnDiscard, when set, is called for every report dropped or
	// quarantined, so the caller can count them.
	OnDiscard func(Discard)
}

// ErrTooLarge is returned by Add for a report that could never fit.
var ErrTooLarge = errors.New("report larger than the spool or frame limit")

// Spool is a directory of pending reports. Its methods are safe for
// concurrent use within one process.
type Spool struct {
	dir  string
	opts Options
	mu   sync.Mutex
}

// Open opens (creating with mode 0700) the spool directory.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	return &Spool{dir: dir, opts: opts}, nil
}

func fileName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, suffix) }

func parseName(name string) (uint64, bool) {
	if !strings.HasSuffix(name, suffix) || strings.HasPrefix(name, ".") {
		return 0, false
	}
	seq, err := strconv.ParseUint(strings.TrimSuffix(name, suffix), 10, 64)
	return seq, err == nil
}

// Add stores r under its sequence number, replacing any report with the
// same number, then enforces the limits (which may drop older reports).
func (s *Spool) Add(r *pb.Report) error {
	b, err := proto.Marshal(r)
	if err != nil {
		return fmt.Errorf("spool report %d: encode: %w", r.GetSequence(), err)
	}
	if int64(len(b)) > s.opts.MaxBytes || len(b) > pb.MaxFrameSize-64 {
		return fmt.Errorf("spool report %d: %d bytes: %w", r.GetSequence(), len(b), ErrTooLarge)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := atomicfile.WriteFile(filepath.Join(s.dir, fileName(r.GetSequence())), b, 0o600); err != nil {
		return fmt.Errorf("spool report %d: %w", r.GetSequence(), err)
	}
	_, err = s.load()
	return err
}

// Pending returns the spooled reports in sequence order, after dropping
// those past the limits and quarantining those that cannot be decoded.
func (s *Spool) Pending() ([]*pb.Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := s.load()
	if err != nil {
		return nil, err
	}
	out := make([]*pb.Report, len(entries))
	for i, e := range entries {
		out[i] = e.report
	}
	return out, nil
}

// Len returns the number of spooled files without decoding them.
func (s *Spool) Len() (int, error) {
	names, err := s.names()
	return len(names), err
}

// Ack removes every report whose sequence is at most seq: the server has
// committed it (or a later one, which it only accepts in order).
func (s *Spool) Ack(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, err := s.names()
	if err != nil {
		return err
	}
	for _, n := range names {
		if n.seq > seq {
			break
		}
		if err := os.Remove(filepath.Join(s.dir, n.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("ack report %d: %w", n.seq, err)
		}
	}
	return nil
}

type name struct {
	name string
	seq  uint64
}

// names lists the spool's report files in sequence order.
func (s *Spool) names() ([]name, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list spool: %w", err)
	}
	var out []name
	for _, de := range des {
		if seq, ok := parseName(de.Name()); ok && de.Type().IsRegular() {
			out = append(out, name{de.Name(), seq})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out, nil
}

type entry struct {
	name
	size   int64
	report *pb.Report
}

// load decodes every report, quarantines the undecodable, and applies the
// age and size limits, oldest first. The caller holds s.mu.
func (s *Spool) load() ([]entry, error) {
	names, err := s.names()
	if err != nil {
		return nil, err
	}
	var entries []entry
	var total int64
	for _, n := range names {
		r, size, err := s.readEntry(n)
		if err != nil {
			s.quarantine(n, err)
			continue
		}
		entries = append(entries, entry{name: n, size: size, report: r})
		total += size
	}
	cutoff := s.opts.Now().Add(-s.opts.MaxAge)
	kept := entries[:0]
	for i, e := range entries {
		collected := time.Unix(0, e.report.GetCollectedAtUnixNano())
		var reason string
		switch {
		case collected.Before(cutoff):
			reason = ReasonExpired
		case total > s.opts.MaxBytes && i < len(entries)-1:
			reason = ReasonSize
		}
		if reason == "" {
			kept = append(kept, e)
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, e.name.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("drop report %d: %w", e.seq, err)
		}
		total -= e.size
		s.discard(Discard{Sequence: e.seq, Reason: reason})
	}
	return kept, nil
}

func (s *Spool) readEntry(n name) (*pb.Report, int64, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, n.name))
	if err != nil {
		return nil, 0, err
	}
	if len(b) > pb.MaxFrameSize {
		return nil, 0, fmt.Errorf("%d bytes: %w", len(b), ErrTooLarge)
	}
	r := &pb.Report{}
	if err := proto.Unmarshal(b, r); err != nil {
		return nil, 0, err
	}
	if r.GetSequence() != n.seq {
		return nil, 0, fmt.Errorf("file holds sequence %d", r.GetSequence())
	}
	return r, int64(len(b)), nil
}

// quarantine moves an undecodable file aside so that it no longer blocks
// delivery but stays available for a support bundle.
func (s *Spool) quarantine(n name, cause error) {
	qdir := filepath.Join(s.dir, quarantineDir)
	s.opts.Logger.Warn("spool file quarantined", "sequence", n.seq, "file", n.name, "error", cause.Error())
	err := os.MkdirAll(qdir, 0o700)
	if err == nil {
		err = os.Rename(filepath.Join(s.dir, n.name), filepath.Join(qdir, n.name))
	}
	if err != nil {
		// Moving failed (e.g. a read-only quarantine): delete instead, so
		// that the file cannot block delivery forever.
		_ = os.Remove(filepath.Join(s.dir, n.name))
	}
	s.trimQuarantine(qdir)
	s.discard(Discard{Sequence: n.seq, Reason: ReasonCorrupt})
}

func (s *Spool) trimQuarantine(qdir string) {
	des, err := os.ReadDir(qdir)
	if err != nil || len(des) <= maxQuarantined {
		return
	}
	// ReadDir sorts by name, i.e. by sequence: the oldest go first.
	for _, de := range des[:len(des)-maxQuarantined] {
		_ = os.Remove(filepath.Join(qdir, de.Name()))
	}
}

func (s *Spool) discard(d Discard) {
	if d.Reason != ReasonCorrupt {
		s.opts.Logger.Warn("spooled report dropped", "sequence", d.Sequence, "reason", d.Reason)
	}
	if s.opts.OnDiscard != nil {
		s.opts.OnDiscard(d)
	}
}
