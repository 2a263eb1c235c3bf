package serve

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

// caPinState is the server-state name under which the database records
// the SHA-256 pin of the CA its devices were enrolled with.
const caPinState = "ca_pin"

// LoadCA loads the device CA from dir and checks it against the one the
// database was first used with, recording it on first use. A data
// directory without a CA gets a new one only while the database has none
// recorded: a second replica (or a restored data directory) pointed at a
// database in use must hold the same ca.pem and ca.key, or every enrolled
// agent, which pins the CA, would be refused. Both cases are errors that
// say what to copy.
func LoadCA(ctx context.Context, st store.Store, dir string, now time.Time) (*ca.CA, error) {
	recorded, _, err := st.State(ctx, caPinState)
	switch {
	case errors.Is(err, store.ErrNotFound):
		recorded = nil
	case err != nil:
		return nil, fmt.Errorf("read the database's CA pin: %w", err)
	}
	if recorded != nil && !caPresent(dir) {
		return nil, fmt.Errorf("the database is in use with the device CA %s, and %s holds no CA: copy %s and %s (mode 0600) from the server that created it",
			string(recorded), dir, ca.CAFile, ca.CAKeyFile)
	}
	authority, err := ca.LoadOrCreate(dir, now)
	if err != nil {
		return nil, err
	}
	pin := authority.Pin()
	have := hex.EncodeToString(pin[:])
	if recorded == nil {
		if err := st.PutState(ctx, caPinState, []byte(have), now); err != nil {
			return nil, fmt.Errorf("record the CA pin: %w", err)
		}
		return authority, nil
	}
	if string(recorded) != have {
		return nil, fmt.Errorf("the device CA in %s (%s) is not the one the database's devices were enrolled with (%s): copy %s and %s from the server that created it",
			dir, have, string(recorded), ca.CAFile, ca.CAKeyFile)
	}
	return authority, nil
}

func caPresent(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ca.CAFile))
	return err == nil
}
