package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// loadAuditKeys reads the data directory's audit key, which every row the
// command line appends must be authenticated with. A data directory
// without one (a server not yet upgraded) keeps an unkeyed log; the audit
// package refuses to append to a chain keyed elsewhere.
func loadAuditKeys(d *deps, o storeOptions) error {
	kr, err := audit.LoadKeyring(o.dataDir)
	switch {
	case errors.Is(err, audit.ErrNoKey):
		return nil
	case err != nil:
		return err
	}
	d.auditKeys = kr
	return nil
}

// auditLog is the audit log of st, keyed when the data directory is.
func auditLog(d *deps, st store.Store) *audit.Log {
	l := audit.New(st, d.now, nil)
	if d.auditKeys != nil {
		l.Keyed(d.auditKeys)
	}
	return l
}

type verifyOptions struct {
	checkpoints bool
	file        string
}

// auditVerify walks the chain (with the audit key when there is one) and,
// with --checkpoints, compares the signed checkpoints; every problem is
// printed in row order, so the first line names the first forged row.
func auditVerify(ctx context.Context, d *deps, st store.Store, dataDir string, o verifyOptions) error {
	l := auditLog(d, st)
	if o.checkpoints && l.Keys() == nil {
		return fmt.Errorf("verify checkpoints: %w in %s (the server creates it at start)", audit.ErrNoKey, dataDir)
	}
	res, err := l.Verify(ctx)
	if err != nil {
		return err
	}
	problems := res.Problems
	var cres audit.CheckpointResult
	if o.checkpoints {
		if o.file == "" {
			o.file = audit.CheckpointPath(dataDir)
		}
		if cres, err = l.VerifyCheckpoints(ctx, o.file); err != nil {
			return err
		}
		problems = append(problems, cres.Problems...)
	}
	audit.SortProblems(problems)
	for _, p := range problems {
		fmt.Fprintln(d.stdout, p.String())
	}
	if len(problems) > 0 {
		return fmt.Errorf("audit log tampered: %d problems in rows %d to %d", len(problems), res.First, res.Last)
	}
	fmt.Fprintf(d.stdout, "ok: %d rows (%d to %d) intact\n", res.Rows, res.First, res.Last)
	switch {
	case !res.Keyed:
		fmt.Fprintln(d.stdout, "warning: the audit log is not keyed (no audit.key): whoever can write the database could rewrite it")
	case res.UnkeyedThrough >= res.First && res.UnkeyedThrough > 0:
		fmt.Fprintf(d.stdout, "rows %d to %d predate the audit key and carry plain hashes\n", res.First, res.UnkeyedThrough)
	}
	if o.checkpoints {
		fmt.Fprintf(d.stdout, "checkpoints: %d signed, the latest at row %d (%s)\n", cres.Checkpoints, cres.Latest.Seq, cres.Latest.At.Format(time.RFC3339))
	}
	return nil
}
