package diskenc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

const (
	lsblkPath   = "/usr/bin/lsblk"
	sourceLsblk = "lsblk -J"
	// swapMark is how lsblk shows an active swap area in its mount points.
	swapMark = "[SWAP]"
)

// lsblkColumns are asked for; lsblk before util-linux 2.37 has no
// MOUNTPOINTS column and is asked again with MOUNTPOINT.
var (
	lsblkArgs    = []string{"-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINTS,PKNAME"}
	lsblkOldArgs = []string{"-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT,PKNAME"}
)

// linuxCollector holds what one Linux collection has read, so that lsblk,
// the fallback when sysfs cannot be read, runs at most once.
type linuxCollector struct {
	ctx       context.Context
	h         host.Host
	lsblk     []lsblkNode
	lsblkErr  error
	lsblkRan  bool
	lsblkUsed bool
}

// fromLsblk replaces an unknown volume whose sysfs walk failed with
// lsblk's view of the device mounted at point; if lsblk cannot tell
// either, v stays unknown with both reasons.
func (c *linuxCollector) fromLsblk(v Volume, point string) Volume {
	nodes, err := c.lsblkNodes()
	if err != nil {
		v.Reason = fmt.Sprintf("%s; lsblk fallback: %v", v.Reason, err)
		return v
	}
	var hits []lsblkNode
	for _, n := range nodes {
		if n.dev.mountedAt(point) && (point != swapMark || swapMatches(n.dev, v.Source, nodes)) {
			hits = append(hits, n)
		}
	}
	if len(hits) == 0 {
		v.Reason = fmt.Sprintf("%s; lsblk shows no device at %s", v.Reason, point)
		return v
	}
	c.lsblkUsed = true
	v.Chain, v.State, v.Encryption, v.Reason = judgeLsblk(hits)
	return v
}

// swapMatches ties a /proc/swaps entry to an lsblk device: by name
// (/dev/sda3, /dev/mapper/cryptswap), or when there is one swap only.
func swapMatches(d lsblkDev, source string, all []lsblkNode) bool {
	base := source[strings.LastIndexByte(source, '/')+1:]
	if d.Name == base {
		return true
	}
	swaps := map[string]bool{}
	for _, n := range all {
		if n.dev.mountedAt(swapMark) {
			swaps[n.dev.Name] = true
		}
	}
	return len(swaps) == 1
}

func (c *linuxCollector) lsblkNodes() ([]lsblkNode, error) {
	if c.lsblkRan {
		return c.lsblk, c.lsblkErr
	}
	c.lsblkRan = true
	c.lsblk, c.lsblkErr = runLsblk(c.ctx, c.h)
	return c.lsblk, c.lsblkErr
}

func runLsblk(ctx context.Context, h host.Host) ([]lsblkNode, error) {
	out, err := runTool(ctx, h, lsblkPath, lsblkArgs...)
	if err == nil && out.ExitCode != 0 && strings.Contains(string(out.Stderr), "unknown column") {
		out, err = runTool(ctx, h, lsblkPath, lsblkOldArgs...)
	}
	if err != nil {
		return nil, err
	}
	if out.ExitCode != 0 {
		return nil, fmt.Errorf("lsblk exited %d: %s", out.ExitCode, firstLine(out.Stderr))
	}
	return parseLsblk(out.Stdout)
}

// runTool runs one command with the default timeout and names the common
// failures precisely.
func runTool(ctx context.Context, h host.Host, path string, args ...string) (host.Output, error) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	name := path[strings.LastIndexAny(path, `/\`)+1:]
	out, err := h.Run(ctx, path, args...)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, host.ErrNotFound):
		return out, host.Wrap(host.ErrNotFound, fmt.Errorf("%s is not installed (%s)", name, path))
	case errors.Is(err, host.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return out, host.Wrap(host.ErrTimeout, fmt.Errorf("%s timed out after %s", name, host.DefaultCommandTimeout))
	case errors.Is(err, host.ErrPermission):
		return out, host.Wrap(host.ErrPermission, fmt.Errorf("run %s: permission denied", name))
	}
	return out, fmt.Errorf("run %s: %w", name, err)
}

// firstLine is the first line of a tool's message, bounded for the facts.
func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
