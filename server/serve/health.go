package serve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/postern-dev/postern/server/api"
	"github.com/postern-dev/postern/server/store"
)

// MinFreeDisk is the free space below which a server on SQLite is not
// ready: reports would soon fail to commit, and a WAL that cannot grow
// fails the next checkpoint.
const MinFreeDisk = 64 << 20

// committer is implemented by stores that can prove a commit.
type committer interface {
	ProbeCommit(ctx context.Context) error
}

// readiness is /readyz's check: listeners up, a one-row commit within the
// probe's deadline, and (on SQLite) disk space left in the data directory.
// Every failure is an api.NotReady whose reason says why in words safe to
// show without a key.
func readiness(st store.Store, cfg Config, up *atomic.Bool) func(context.Context) error {
	sqlite := cfg.Database == "" && cfg.DatabaseFile == ""
	return func(ctx context.Context) error {
		if !up.Load() {
			return &api.NotReady{Reason: "listeners not up"}
		}
		c, ok := st.(committer)
		if !ok {
			return &api.NotReady{Reason: "the store cannot prove a commit"}
		}
		if err := c.ProbeCommit(ctx); err != nil {
			return &api.NotReady{Reason: commitFailure(ctx, err), Err: err}
		}
		if sqlite {
			free, err := diskFree(cfg.DataDir)
			switch {
			case errors.Is(err, errDiskFreeUnknown):
				// The commit above is the evidence; free space is extra.
			case err != nil:
				return &api.NotReady{Reason: "the data directory's free space cannot be read", Err: err}
			case free < MinFreeDisk:
				return &api.NotReady{Reason: fmt.Sprintf("disk almost full: %d MiB free in the data directory (under %d MiB)", free>>20, MinFreeDisk>>20)}
			}
		}
		return nil
	}
}

// commitFailure names why a commit failed, from the drivers' words
// (SQLite's result codes, PostgreSQL's SQLSTATE texts and the OS's).
func commitFailure(ctx context.Context, err error) string {
	msg := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil ||
		strings.Contains(msg, "database is locked") || strings.Contains(msg, "sqlite_busy") || strings.Contains(msg, "lock timeout"):
		return "database cannot commit: locked or busy past the probe's deadline"
	case strings.Contains(msg, "disk is full") || strings.Contains(msg, "no space left") || strings.Contains(msg, "sqlite_full") ||
		strings.Contains(msg, "could not extend file"):
		return "database cannot commit: disk full"
	case strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only") || strings.Contains(msg, "sqlite_readonly"):
		return "database cannot commit: read-only"
	case strings.Contains(msg, "connect") || strings.Contains(msg, "closed"):
		return "database unreachable"
	}
	return "database cannot commit"
}

// errDiskFreeUnknown is diskFree's answer where the OS is not supported.
var errDiskFreeUnknown = errors.New("free disk space unknown on this OS")
