package aptconfig

import (
	"path"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// Defaults are apt's built-in values (apt-pkg/init.cc) for the keys
// Paths resolves; a dump that lacks one leaves apt at its default.
var Defaults = map[string]string{
	"Dir":               "/",
	"Dir::State":        "var/lib/apt/",
	"Dir::State::lists": "lists/",
	"Dir::Log":          "var/log/apt",
	"Dir::Log::History": "history.log",
	"Dir::Etc":          "etc/apt/",
	"Dir::Etc::main":    "apt.conf",
	"Dir::Etc::parts":   "apt.conf.d",
}

// Parse reads `apt-config dump` output, one `Key::Path "value";` per
// line, keeping the scalar values of the keys keep accepts (a later
// line wins, as in apt's own tree).
func Parse(b []byte, keep func(key string) bool) map[string]string {
	out := map[string]string{}
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		i := strings.IndexByte(line, '"')
		j := strings.LastIndexByte(line, '"')
		if i <= 0 || j <= i {
			continue
		}
		k := strings.TrimSpace(line[:i])
		if strings.HasSuffix(k, "::") || !keep(k) {
			continue
		}
		out[k] = line[i+1 : j]
	}
	return out
}

// Kept says whether key is one FindFile may need: RootDir and the Dir
// tree.
func Kept(key string) bool {
	return key == "RootDir" || key == "Dir" || strings.HasPrefix(key, "Dir::")
}

// FindFile resolves key as apt's Configuration::FindFile does: a value
// that is not absolute (nor ./, ../ or ~/) is relative to its parent's
// value, up the tree (Dir::State::lists under Dir::State under Dir);
// parents without a value are skipped; RootDir, when set, is prefixed.
// The result is cleaned (no trailing slash).
// A key missing from conf takes its value from Defaults.
func FindFile(conf map[string]string, key string) string {
	get := func(k string) string {
		if v, ok := conf[k]; ok {
			return v
		}
		return Defaults[k]
	}
	root := conf["RootDir"]
	if root != "" && !strings.HasSuffix(root, "/") {
		root += "/"
	}
	val := get(key)
	if val == "" {
		return root
	}
	parts := strings.Split(key, "::")
	for n := len(parts) - 1; n > 0; n-- {
		parent := get(strings.Join(parts[:n], "::"))
		if parent == "" {
			continue
		}
		if strings.HasPrefix(val, "/") {
			if strings.HasPrefix(val, "/dev/null") {
				val = "/dev/null"
			}
			break
		}
		if strings.HasPrefix(val, "./") || strings.HasPrefix(val, "~/") || strings.HasPrefix(val, "../") {
			break
		}
		if !strings.HasSuffix(parent, "/") {
			val = "/" + val
		}
		val = parent + val
	}
	// apt joins RootDir and an absolute value with a double slash; the
	// kernel reads it as one, and a cleaned path names the same file.
	return path.Clean(root + val)
}

// FindDir is FindFile with a trailing slash, as apt's FindDir.
func FindDir(conf map[string]string, key string) string {
	d := FindFile(conf, key)
	if !strings.HasSuffix(d, "/") {
		d += "/"
	}
	return d
}
