package aptconfig

import (
	"errors"
	"fmt"
	"path"

	"github.com/postern-dev/postern/checks/host"
)

// maxParts bounds the files read from the parts directory: a few dozen
// in practice, and a bound keeps a directory of many files cheap.
const maxParts = 256

// ReadFiles reads apt's configuration files in apt's own order
// (apt-pkg/init.cc pkgReadConfigFiles, APT_CONFIG unset): every file of
// Dir::Etc::parts in name order, then the Dir::Etc::main file as the
// parts left it, so a part that moves main (Dir::Etc::main, Dir::Etc,
// Dir, RootDir) is followed. apt lists the parts directory before any
// file is read and reads each place once: Dir::Etc::parts set in a file
// moves nothing, and no file can make the reading loop (checked with
// apt-config dump). It keeps the keys keep accepts and the Dir tree, and
// returns the places read (the parts directory when a part was read, the
// main file when it was). A file that exists but could not be read is an
// error returned with what was read; it fails outright when the parts
// directory cannot be listed or no file could be read.
func ReadFiles(h host.Host, keep func(key string) bool) (map[string]string, []string, error) {
	conf := map[string]string{}
	keepAll := func(k string) bool { return Kept(k) || keep(k) }
	var read []string
	readOne := func(p, place string) error {
		b, err := h.ReadFile(p)
		if err != nil {
			if errors.Is(err, host.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("read %s: %w", p, err)
		}
		ParseConf(b, conf, keepAll)
		if len(read) == 0 || read[len(read)-1] != place {
			read = append(read, place)
		}
		return nil
	}
	var errs []error
	parts := FindFile(conf, "Dir::Etc::parts")
	names, err := h.ReadDir(parts)
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		return nil, nil, fmt.Errorf("list %s: %w", parts, err)
	}
	n := 0
	for _, name := range names {
		if !PartName(name) {
			continue
		}
		if n++; n > maxParts {
			errs = append(errs, fmt.Errorf("%s: more than %d files, the rest not read", parts, maxParts))
			break
		}
		if err := readOne(path.Join(parts, name), parts); err != nil {
			errs = append(errs, err)
		}
	}
	if main := FindFile(conf, "Dir::Etc::main"); main != "/dev/null" {
		if err := readOne(main, main); err != nil {
			errs = append(errs, err)
		}
	}
	if len(read) == 0 {
		errs = append(errs, fmt.Errorf("no apt configuration file could be read (%s, %s)", parts, FindFile(conf, "Dir::Etc::main")))
		return nil, nil, errors.Join(errs...)
	}
	return conf, read, errors.Join(errs...)
}

// PartName applies apt's rule for the parts directory: names of
// letters, digits, _ - . only, with no extension or .conf.
func PartName(n string) bool {
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	ext := path.Ext(n)
	return ext == "" || ext == ".conf"
}
