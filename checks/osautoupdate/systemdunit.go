package osautoupdate

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// unitDirs are systemd's system unit directories, most specific first: a
// unit file in an earlier one hides the same name in a later one, and a
// drop-in of the same name likewise (systemd.unit(5), "Unit File Load Path").
var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// unitValues are the values of one key of a unit as systemd merges them:
// the unit file, then its drop-ins (<unit>.d/*.conf) in name order; an
// empty assignment resets the list, as `ExecStart=` and `OnCalendar=` do.
type unitValues struct {
	values []string
	// files are the files that were read, in order.
	files []string
	// found is false when no unit file was found, so only drop-ins (if
	// any) were applied to the packaged default.
	found bool
}

// readUnitKey merges section/key of unit over def, the value the
// packaged unit ships when its file is not on the host. Files that exist
// but cannot be read are an error.
func readUnitKey(h host.Host, unit, section, key string, def []string) (unitValues, error) {
	uv := unitValues{values: append([]string(nil), def...)}
	for _, d := range unitDirs {
		p := path.Join(d, unit)
		b, err := h.ReadFile(p)
		if errors.Is(err, host.ErrNotFound) {
			continue
		}
		if err != nil {
			return uv, fmt.Errorf("read %s: %w", p, err)
		}
		uv.values, uv.found = nil, true
		uv.values = applyUnitFile(b, section, key, uv.values)
		uv.files = append(uv.files, p)
		break
	}
	// Drop-ins by file name; the most specific directory's file of a name wins.
	dropins := map[string]string{}
	for i := len(unitDirs) - 1; i >= 0; i-- {
		matches, err := h.Glob(path.Join(unitDirs[i], unit+".d", "*.conf"))
		if err != nil && !errors.Is(err, host.ErrNotFound) {
			return uv, fmt.Errorf("list %s drop-ins: %w", unit, err)
		}
		for _, m := range matches {
			dropins[path.Base(m)] = m
		}
	}
	names := make([]string, 0, len(dropins))
	for n := range dropins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := dropins[n]
		b, err := h.ReadFile(p)
		if err != nil {
			return uv, fmt.Errorf("read %s: %w", p, err)
		}
		uv.values = applyUnitFile(b, section, key, uv.values)
		uv.files = append(uv.files, p)
	}
	return uv, nil
}

// applyUnitFile applies one unit file's assignments of section/key to
// vals: each adds a value, an empty one clears the list.
func applyUnitFile(b []byte, section, key string, vals []string) []string {
	current := ""
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		// A trailing backslash continues the line (systemd.syntax(7)).
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(lines[i])
		}
		switch {
		case line == "", line[0] == '#', line[0] == ';':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			current = line[1 : len(line)-1]
		case current == section:
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(k) != key {
				continue
			}
			if v = strings.TrimSpace(v); v == "" {
				vals = nil
			} else {
				vals = append(vals, v)
			}
		}
	}
	return vals
}
