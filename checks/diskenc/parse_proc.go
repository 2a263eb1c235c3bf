package diskenc

import (
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// mount is one line of /proc/self/mountinfo (proc(5)).
type mount struct {
	devID      string // major:minor
	mountPoint string
	fsType     string
	source     string
}

// parseMountinfo returns the mounts in order; a later mount on the same
// point hides an earlier one, so callers take the last.
func parseMountinfo(b []byte) []mount {
	var out []mount
	for line := range textlines.Each(b) {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+2 >= len(f) {
			continue
		}
		out = append(out, mount{devID: f[2], mountPoint: unescapeOctal(f[4]), fsType: f[sep+1], source: unescapeOctal(f[sep+2])})
	}
	return out
}

// lastMount returns the visible mount at point.
func lastMount(ms []mount, point string) (mount, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].mountPoint == point {
			return ms[i], true
		}
	}
	return mount{}, false
}

// mountOf returns the mount holding path: the longest mount point that is
// a prefix of it.
func mountOf(ms []mount, path string) (mount, bool) {
	best, found := mount{}, false
	for _, m := range ms {
		p := m.mountPoint
		if path == p || p == "/" || strings.HasPrefix(path, p+"/") {
			if !found || len(p) >= len(best.mountPoint) {
				best, found = m, true
			}
		}
	}
	return best, found
}

// swapArea is one line of /proc/swaps.
type swapArea struct {
	name, kind string
}

func parseSwaps(b []byte) []swapArea {
	var out []swapArea
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		f := strings.Fields(line)
		if i == 0 || len(f) < 2 {
			continue // header
		}
		out = append(out, swapArea{name: unescapeOctal(f[0]), kind: f[1]})
	}
	return out
}

// unescapeOctal undoes the kernel's \040-style escaping of spaces, tabs,
// newlines and backslashes in paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cryptType extracts the dm-crypt type from a device-mapper UUID such as
// CRYPT-LUKS2-3f2a...-luks-3f2a... ("" when not a crypt device).
func cryptType(uuid string) string {
	rest, ok := strings.CutPrefix(strings.TrimSpace(uuid), "CRYPT-")
	if !ok {
		return ""
	}
	t, _, _ := strings.Cut(rest, "-")
	if t == "" {
		return "unknown"
	}
	return t
}

// dmKind names what a non-crypt device-mapper device is from its UUID
// prefix (LVM-, mpath-, part1-...).
func dmKind(uuid string) string {
	switch {
	case strings.HasPrefix(uuid, "LVM-"):
		return "lvm"
	case strings.HasPrefix(uuid, "mpath-"):
		return "multipath"
	case strings.HasPrefix(uuid, "part"):
		return "partition"
	}
	return "dm"
}
