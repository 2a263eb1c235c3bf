package osautoupdate

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// parseAptConfigDump reads `apt-config dump` output: one
// `Key::Path "value";` per line. Only APT::Periodic keys are kept.
func parseAptConfigDump(b []byte) map[string]string {
	out := map[string]string{}
	for line := range textlines.Each(b) {
		k, v, ok := aptLine(line)
		if ok && strings.HasPrefix(k, "APT::Periodic::") {
			out[k] = v
		}
	}
	return out
}

// parseAptConf reads one apt.conf(5) file into dst, later assignments
// winning. It understands the flat `A::B "v";` form and nested
// `A { B "v"; };` scopes, with // and # comments and /* */ blocks.
// Every step consumes what it scanned, so a file of any shape is read in
// linear time.
func parseAptConf(b []byte, dst map[string]string) {
	b = stripBlockComments(b)
	var scope []string
	scopeLen := 0 // the length of scope's names joined by "::"
	for _, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(stripLineComment(raw))
		for line != "" {
			if strings.HasPrefix(line, "}") {
				if n := len(scope); n > 0 {
					scopeLen -= len(scope[n-1]) + 2
					scope = scope[:n-1]
				}
				line = strings.TrimSpace(strings.TrimLeft(strings.TrimPrefix(line, "}"), ";"))
				continue
			}
			// A brace opens a scope when it comes before any quote or
			// statement end.
			if i := strings.IndexAny(line, `{";`); i >= 0 && line[i] == '{' {
				scope = append(scope, strings.TrimSpace(line[:i]))
				scopeLen += len(scope[len(scope)-1]) + 2
				line = strings.TrimSpace(line[i+1:])
				continue
			}
			end := strings.Index(line, ";")
			stmt := line
			if end >= 0 {
				stmt, line = line[:end+1], strings.TrimSpace(line[end+1:])
			} else {
				line = ""
			}
			// The keys read are short; a longer name is not assembled,
			// so deep or long scopes cost no more than their text.
			if k, v, ok := aptLine(stmt); ok && scopeLen+len(k) <= maxAptKey {
				full := strings.Join(append(append([]string(nil), scope...), k), "::")
				if strings.HasPrefix(full, "APT::Periodic::") {
					dst[full] = v
				}
			}
		}
	}
}

// maxAptKey bounds the length of a key assembled from its scopes: the
// APT::Periodic keys read are far shorter.
const maxAptKey = 256

// aptLine splits `Key "value";`.
func aptLine(s string) (key, value string, ok bool) {
	s = strings.TrimSpace(s)
	i := strings.IndexByte(s, '"')
	j := strings.LastIndexByte(s, '"')
	if i <= 0 || j <= i {
		return "", "", false
	}
	return strings.TrimSpace(s[:i]), s[i+1 : j], true
}

func stripLineComment(s string) string {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			inQuote = !inQuote
		case !inQuote && s[i] == '#':
			return s[:i]
		case !inQuote && s[i] == '/' && i+1 < len(s) && s[i+1] == '/':
			return s[:i]
		}
	}
	return s
}

func stripBlockComments(b []byte) []byte {
	var out []byte
	for {
		i := bytes.Index(b, []byte("/*"))
		if i < 0 {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		j := bytes.Index(b[i+2:], []byte("*/"))
		if j < 0 {
			return out
		}
		b = b[i+2+j+2:]
	}
}

// periodicOn reads an APT::Periodic interval: "0" or empty is off, a
// positive number of days or "always" is on. ok is false for garbage.
func periodicOn(v string) (on, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return false, true
	}
	if strings.EqualFold(v, "always") {
		return true, true
	}
	// Intervals may carry a unit suffix (e.g. "1d", "12h").
	num := strings.TrimRight(v, "smhd")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return false, false
	}
	return n > 0, true
}
