package ospatched

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/textlines"
)

// dpkg's configuration (dpkg.cfg(5)): the files of dpkg.cfg.d in name
// order, then dpkg.cfg; a later option wins.
const (
	dpkgCfgDir  = "/etc/dpkg/dpkg.cfg.d"
	dpkgCfgFile = "/etc/dpkg/dpkg.cfg"
	// maxDpkgCfgFiles bounds the drop-ins read: a handful in practice.
	maxDpkgCfgFiles = 64
)

// dpkgLogSource is where dpkg writes its log and why: the last `log`
// option of its configuration, else its built-in default. Files that
// could not be read are named in notes, since one of them may have moved
// the log.
type dpkgLogSource struct {
	path   string
	setBy  string // the file whose `log` option won; "" for the default
	errors []string
}

// describe says which log was read, for a Stamp's Source.
func (s dpkgLogSource) describe() string {
	if s.setBy == "" {
		return s.path + " (dpkg's default log)"
	}
	return s.path + " (log set in " + s.setBy + ")"
}

// dpkgLogPath reads dpkg's configuration as dpkg does
// (lib/dpkg/options.c): names of letters, digits, _ and - only in the
// drop-in directory, sorted; dpkg.cfg after them.
func dpkgLogPath(h host.Host) dpkgLogSource {
	src := dpkgLogSource{path: dpkgLog}
	var files []string
	names, err := h.ReadDir(dpkgCfgDir)
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		src.errors = append(src.errors, fmt.Sprintf("list %s: %v", dpkgCfgDir, err))
	}
	for _, n := range names {
		if dpkgCfgName(n) && len(files) < maxDpkgCfgFiles {
			files = append(files, path.Join(dpkgCfgDir, n))
		}
	}
	files = append(files, dpkgCfgFile)
	for _, p := range files {
		b, err := h.ReadFile(p)
		if err != nil {
			if !errors.Is(err, host.ErrNotFound) {
				src.errors = append(src.errors, fmt.Sprintf("read %s: %v", p, err))
			}
			continue
		}
		if v, ok := dpkgCfgLog(b); ok {
			src.path, src.setBy = v, p
		}
	}
	return src
}

// dpkgCfgName is dpkg's valid_config_filename: no dot, so editors'
// backups (x.dpkg-old, x~) are skipped.
func dpkgCfgName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// dpkgCfgLog returns the value of the last `log` option in one file:
// an option name of letters, digits and dashes at the start of the line,
// then a space or '=', optional spaces, and the value with one pair of
// quotes removed. A line starting with '#' is a comment.
func dpkgCfgLog(b []byte) (string, bool) {
	val, found := "", false
	for line := range textlines.Each(b) {
		line = strings.TrimRight(line, " \t\r\f\v")
		if line == "" || line[0] == '#' {
			continue
		}
		// dpkg ends the name at the first other character and skips it.
		i := strings.IndexFunc(line, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
		})
		if i < 0 || line[:i] != "log" {
			continue
		}
		rest := line[i+1:]
		rest = strings.TrimLeft(strings.TrimPrefix(rest, "="), " \t")
		if len(rest) >= 2 && (rest[0] == '"' || rest[0] == '\'') && rest[len(rest)-1] == rest[0] {
			rest = rest[1 : len(rest)-1]
		}
		if rest != "" {
			val, found = rest, true
		}
	}
	return val, found
}
