package wifienc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/postern-dev/postern/checks/host"
)

// Addresses whose route is looked up to find the interface that carries
// internet traffic. A route lookup sends no packet; any public address
// would do, these are well-known ones.
const (
	probeIPv4 = "1.1.1.1"
	probeIPv6 = "2606:4700:4700::1111"
)

// run runs the first of paths that is installed, with the default command
// timeout. It returns the path used. A non-zero exit is returned as an
// error explaining it, with the output.
func run(ctx context.Context, h host.Host, paths []string, args ...string) (host.Output, error) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	name := paths[0][strings.LastIndexAny(paths[0], `/\`)+1:]
	for _, p := range paths {
		out, err := h.Run(ctx, p, args...)
		if errors.Is(err, host.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("run %s: %w", name, err)
		}
		if out.ExitCode != 0 {
			return out, &exitError{name: name, out: out}
		}
		return out, nil
	}
	return host.Output{}, host.Wrap(host.ErrNotFound, fmt.Errorf("%s is not installed (%s)", name, strings.Join(paths, ", ")))
}

// exitError is a command that ran and exited non-zero.
type exitError struct {
	name string
	out  host.Output
}

func (e *exitError) Error() string {
	return fmt.Sprintf("%s exited %d: %s", e.name, e.out.ExitCode, firstLine(e.out.Stderr, e.out.Stdout))
}

// firstLine returns the first non-empty line of the first non-empty
// output, bounded, for error messages.
// clip bounds text quoted in an error message.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func firstLine(outs ...[]byte) string {
	for _, o := range outs {
		for _, line := range strings.Split(string(o), "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if len(line) > 200 {
				line = line[:200]
			}
			return line
		}
	}
	return "no output"
}
