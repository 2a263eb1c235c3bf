package passwordprotected

import (
	"bytes"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// iniValue is one key of an INI-style file, with its section.
type iniValue struct {
	section, key, value string
}

// parseINI reads the INI dialect of display-manager configuration (GDM's
// custom.conf, LightDM, SDDM): [section], key=value, # and ; comments.
// Keys keep their case; callers compare case-insensitively.
func parseINI(b []byte) []iniValue {
	var out []iniValue
	section := ""
	for line := range textlines.Each(bytes.TrimPrefix(b, []byte("\ufeff"))) {
		line = strings.TrimSpace(line)
		switch {
		case line == "", line[0] == '#', line[0] == ';':
			continue
		case line[0] == '[':
			if end := strings.IndexByte(line, ']'); end > 0 {
				section = strings.TrimSpace(line[1:end])
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out = append(out, iniValue{section: section, key: strings.TrimSpace(k), value: strings.TrimSpace(v)})
	}
	return out
}

// iniLookup returns the last value of key in a section accepted by inSection.
func iniLookup(vals []iniValue, inSection func(string) bool, key string) (string, bool) {
	var v string
	found := false
	for _, e := range vals {
		if inSection(e.section) && strings.EqualFold(e.key, key) {
			v, found = e.value, true
		}
	}
	return v, found
}

// iniTrue is GLib's and Qt's reading of a boolean.
func iniTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true
	}
	return false
}

// gettyAutologinUser finds `--autologin USER` or `-a USER` on an
// ExecStart= line of a systemd getty drop-in.
func gettyAutologinUser(b []byte) (string, bool) {
	user, found := "", false
	for _, v := range parseINI(b) {
		if !strings.EqualFold(v.section, "Service") || v.key != "ExecStart" {
			continue
		}
		if v.value == "" {
			user, found = "", false
			continue
		}
		fields := strings.Fields(v.value)
		for i, fl := range fields {
			switch {
			case (fl == "--autologin" || fl == "-a") && i+1 < len(fields):
				user, found = fields[i+1], true
			case strings.HasPrefix(fl, "--autologin="):
				user, found = strings.TrimPrefix(fl, "--autologin="), true
			}
		}
	}
	return user, found
}
