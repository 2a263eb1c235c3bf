package screenlock

import (
	"strings"
)

// keyfile is an INI-style file as GLib's and KDE's readers see it: groups
// of key=value lines. Later duplicates win.
type keyfile struct {
	groups map[string]map[string]string
	// immutable records KDE's "[$i]" markers: a whole file (""), a group
	// ("[Group][$i]"), or "group\x00key" for "Key[$i]=value".
	immutable map[string]bool
}

// parseKeyfile reads dconf keyfiles (/etc/dconf/db/NAME.d/*), GSettings
// schema overrides and KDE config files. It tolerates a UTF-8 BOM, CRLF,
// '#' and ';' comments and blank lines; KDE's [$i] markers are recorded.
func parseKeyfile(b []byte) keyfile {
	kf := keyfile{groups: map[string]map[string]string{}, immutable: map[string]bool{}}
	text := strings.TrimPrefix(string(b), "\ufeff")
	group := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			name, rest, _ := strings.Cut(line[1:], "]")
			if name == "$i" && group == "" && len(kf.groups) == 0 {
				kf.immutable[""] = true
				continue
			}
			group = name
			if strings.Contains(rest, "[$i]") {
				kf.immutable[group] = true
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if i := strings.IndexByte(k, '['); i >= 0 {
			if strings.Contains(k[i:], "[$i]") {
				kf.immutable[group+"\x00"+k[:i]] = true
			}
			k = k[:i] // also drops KDE's locale suffixes, Name[de]
		}
		if kf.groups[group] == nil {
			kf.groups[group] = map[string]string{}
		}
		kf.groups[group][k] = strings.TrimSpace(v)
	}
	return kf
}

// get returns the raw value of key in group.
func (kf keyfile) get(group, key string) (string, bool) {
	v, ok := kf.groups[group][key]
	return v, ok
}

// locked reports whether KDE's kiosk markers make group/key immutable.
func (kf keyfile) locked(group, key string) bool {
	return kf.immutable[""] || kf.immutable[group] || kf.immutable[group+"\x00"+key]
}

// gvariantTextValue normalizes a value in GVariant text format, as dconf
// keyfiles and schema overrides write it ("uint32 600", "true", "'x'"),
// to the form parse_gvdb.go produces.
func gvariantTextValue(v string) string {
	v = strings.TrimSpace(v)
	for _, prefix := range []string{"uint32 ", "int32 ", "uint16 ", "int16 ", "uint64 ", "int64 ", "byte ", "double "} {
		if strings.HasPrefix(v, prefix) {
			return strings.TrimSpace(v[len(prefix):])
		}
	}
	if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
