package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/postern-dev/postern/internal/dirowner"
)

// CheckpointFile is the default checkpoint file's name in the data
// directory.
const CheckpointFile = "audit-checkpoints.jsonl"

// CheckpointPath is the default checkpoint file in dataDir.
func CheckpointPath(dataDir string) string { return filepath.Join(dataDir, CheckpointFile) }

// DefaultCheckpointEvery is how often the server anchors the chain.
const DefaultCheckpointEvery = 15 * time.Minute

// Checkpoint anchors the chain outside the database: the sequence and
// hash of the last row at a time, signed with the audit key. A database
// rewritten or rolled back after a checkpoint no longer matches it.
type Checkpoint struct {
	Seq       uint64    `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
}

func (c Checkpoint) signed() []byte {
	return []byte("postern-audit-checkpoint-v1\n" + formatSeq(c.Seq) + "\n" + c.Hash + "\n" + c.At.UTC().Format(time.RFC3339Nano) + "\n" + c.KeyID)
}

// Checkpointer writes checkpoints of a log to a file (JSON lines, 0600,
// each line synced) and to the server's log, whose lines go to the
// journal or syslog, beyond the reach of whoever can write the database.
type Checkpointer struct {
	log  *Log
	path string
	out  func(Checkpoint)
	last uint64
}

// NewCheckpointer returns a checkpointer of l into path; out, when set, is
// also given every checkpoint (the server logs it).
func NewCheckpointer(l *Log, path string, out func(Checkpoint)) *Checkpointer {
	return &Checkpointer{log: l, path: path, out: out}
}

// ErrUnkeyed is returned when a checkpoint is asked of an unkeyed log.
var ErrUnkeyed = errors.New("the audit log has no key")

// Write anchors the current tail; it writes nothing when the tail is the
// one last anchored (or the log is empty).
func (c *Checkpointer) Write(ctx context.Context) (Checkpoint, bool, error) {
	tail, err := c.log.st.AuditTail(ctx)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("audit checkpoint: %w", err)
	}
	if tail.Seq == 0 || tail.Seq == c.last {
		return Checkpoint{}, false, nil
	}
	k := c.log.keys.keyFor(tail.Seq)
	if k == nil {
		return Checkpoint{}, false, fmt.Errorf("audit checkpoint: %w for row %d", ErrUnkeyed, tail.Seq)
	}
	cp := Checkpoint{Seq: tail.Seq, Hash: tail.Hash, At: c.log.now().UTC(), KeyID: k.ID}
	cp.Signature = hex.EncodeToString(ed25519.Sign(k.signer(), cp.signed()))
	line, _ := json.Marshal(cp)
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("audit checkpoint: %w", err)
	}
	err = dirowner.Match(f, filepath.Dir(c.path))
	if err == nil {
		_, err = f.Write(append(line, '\n'))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("audit checkpoint: %w", err)
	}
	c.last = tail.Seq
	if c.out != nil {
		c.out(cp)
	}
	return cp, true, nil
}

// Run writes a checkpoint now, every interval, and once more when ctx
// ends, logging failures through the log's logger.
func (c *Checkpointer) Run(ctx context.Context, every time.Duration) {
	write := func(ctx context.Context) {
		if _, _, err := c.Write(ctx); err != nil {
			c.log.log.Error("audit checkpoint failed", "path", c.path, "err", err)
		}
	}
	write(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			write(ctx)
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			write(final)
			cancel()
			return
		}
	}
}

// ReadCheckpoints parses a checkpoint file. Lines that do not parse are
// returned as problems, not errors: the file may have been tampered with.
func ReadCheckpoints(path string) ([]Checkpoint, []Problem, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	defer f.Close()
	var cps []Checkpoint
	var problems []Problem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var cp Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &cp); err != nil || cp.Seq == 0 {
			problems = append(problems, Problem{Msg: fmt.Sprintf("checkpoint file line %d is not a checkpoint", n)})
			continue
		}
		cps = append(cps, cp)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	return cps, problems, nil
}

// CheckpointResult says what VerifyCheckpoints compared.
type CheckpointResult struct {
	// Checkpoints is how many signed checkpoints were checked; Latest is
	// the newest.
	Checkpoints int
	Latest      Checkpoint
	Problems    []Problem
}

// VerifyCheckpoints checks every checkpoint in path: its signature by the
// audit key it names, and that the row it names is in the database with
// the same hash (or was pruned). No checkpoint at all is a problem too:
// nothing then shows that the database was not rolled back or rewritten.
func (l *Log) VerifyCheckpoints(ctx context.Context, path string) (CheckpointResult, error) {
	var res CheckpointResult
	if l.keys == nil {
		return res, fmt.Errorf("verify audit checkpoints: %w (no %s)", ErrUnkeyed, KeyFile)
	}
	cps, problems, err := ReadCheckpoints(path)
	if err != nil {
		return res, err
	}
	res.Problems = problems
	anchor, err := l.st.AuditAnchor(ctx)
	if err != nil {
		return res, err
	}
	for _, cp := range cps {
		k := l.keys.byID(cp.KeyID)
		sig, _ := hex.DecodeString(cp.Signature)
		if k == nil || !ed25519.Verify(k.PublicKey(), cp.signed(), sig) {
			res.Problems = append(res.Problems, Problem{Seq: cp.Seq,
				Msg: fmt.Sprintf("the checkpoint of %s naming it has no valid signature by an audit key (the checkpoint file was edited)", cp.At.Format(time.RFC3339))})
			continue
		}
		res.Checkpoints++
		if cp.Seq >= res.Latest.Seq {
			res.Latest = cp
		}
		when := cp.At.Format(time.RFC3339)
		if cp.Seq <= anchor.Seq {
			if cp.Seq == anchor.Seq && cp.Hash != anchor.Hash {
				res.Problems = append(res.Problems, Problem{Seq: cp.Seq, Msg: "edited: the retention anchor differs from the signed checkpoint of " + when})
			}
			continue // pruned by retention
		}
		rows, err := l.st.AuditRows(ctx, cp.Seq-1, 1)
		if err != nil {
			return res, err
		}
		switch {
		case len(rows) == 0 || rows[0].Seq != cp.Seq:
			res.Problems = append(res.Problems, Problem{Seq: cp.Seq, Msg: "deleted: the row named by the signed checkpoint of " + when + " is missing"})
		case rows[0].Hash != cp.Hash:
			res.Problems = append(res.Problems, Problem{Seq: cp.Seq, Msg: "edited: it differs from the signed checkpoint of " + when})
		}
	}
	if res.Checkpoints == 0 {
		res.Problems = append(res.Problems, Problem{Msg: "no validly signed checkpoint in " + path + ": nothing shows the database was not rewritten or rolled back"})
	}
	SortProblems(res.Problems)
	return res, nil
}

// SortProblems orders problems by row, so the first names the first
// forged row.
func SortProblems(p []Problem) {
	slices.SortStableFunc(p, func(a, b Problem) int { return compareSeq(a.Seq, b.Seq) })
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
