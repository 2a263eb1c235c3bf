package antivirus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// run runs a program with its own deadline and turns host errors and a
// non-zero exit into a reason a person can act on. The output is returned
// with a non-zero exit too, as some tools print state and exit non-zero.
func run(ctx context.Context, h host.Host, timeout time.Duration, name string, args ...string) (host.Output, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := h.Run(ctx, name, args...)
	switch {
	case errors.Is(err, host.ErrNotFound):
		return out, fmt.Errorf("%s is not installed", name)
	case errors.Is(err, host.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return out, fmt.Errorf("%s timed out after %s", name, timeout)
	case errors.Is(err, host.ErrPermission):
		return out, fmt.Errorf("%s: permission denied (the agent is not running as root/SYSTEM)", name)
	case err != nil:
		return out, fmt.Errorf("run %s: %w", name, err)
	}
	return out, nil
}

// exitError explains a non-zero exit by the first line of its stderr (or
// stdout), bounded.
func exitError(name string, out host.Output) error {
	msg := firstLine(out.Stderr)
	if msg == "" {
		msg = firstLine(out.Stdout)
	}
	low := strings.ToLower(msg)
	if strings.Contains(low, "permission denied") || strings.Contains(low, "must be root") || strings.Contains(low, "operation not permitted") {
		return fmt.Errorf("%s needs root (the agent is not running as root): %s", name, msg)
	}
	return fmt.Errorf("%s exited %d: %s", name, out.ExitCode, msg)
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// exists reports whether path exists; an error other than "not found" is
// returned so that the caller can note it.
func exists(h host.Host, path string) (bool, error) {
	_, err := h.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, host.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("stat %s: %w", path, err)
}
