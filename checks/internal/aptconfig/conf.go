package aptconfig

import (
	"bytes"
	"strings"
)

// AddValue stores one assignment: list items are appended, anything
// else replaces.
func AddValue(dst map[string]string, k, v string) {
	if !strings.HasSuffix(k, "::") {
		dst[k] = v
		return
	}
	if v == "" {
		return // an empty item names no origin
	}
	if old, ok := dst[k]; ok && old != "" {
		if len(old) > MaxList {
			return
		}
		v = old + "\n" + v
	}
	dst[k] = v
}

// MaxList bounds a kept list: origin lists are a few lines, and a
// bound keeps a hostile file of many items linear to read.
const MaxList = 4096

// List returns the items of a list kept by AddValue.
func List(conf map[string]string, k string) []string {
	if conf[k] == "" {
		return nil
	}
	return strings.Split(conf[k], "\n")
}

// ParseConf reads one apt.conf(5) file into dst, later assignments
// winning, keeping the keys keep accepts. It understands the flat `A::B "v";` form and nested
// `A { B "v"; };` scopes, with // and # comments and /* */ blocks.
// Every step consumes what it scanned, so a file of any shape is read in
// linear time.
func ParseConf(b []byte, dst map[string]string, keep func(key string) bool) {
	b = stripBlockComments(b)
	var scope []string
	scopeLen := 0 // the length of scope's names joined by "::"
	for _, raw := range strings.Split(string(b), "\n") {
		// `#clear Name;` empties a list or scope (apt.conf(5)); every
		// other # line is a comment.
		if name, ok := strings.CutPrefix(strings.TrimSpace(raw), "#clear"); ok && (name == "" || name[0] == ' ' || name[0] == '\t') {
			name = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(name), ";"))
			full := strings.Join(append(append([]string(nil), scope...), name), "::")
			for k := range dst {
				if k == full || strings.HasPrefix(k, full+"::") {
					delete(dst, k)
				}
			}
			continue
		}
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
			if k, v, ok := SplitLine(stmt); ok && scopeLen+len(k) <= maxKey {
				full := strings.Join(append(append([]string(nil), scope...), k), "::")
				if k == "" {
					// A bare "value"; inside a scope is a list item.
					full = strings.Join(scope, "::") + "::"
				}
				if keep(full) {
					AddValue(dst, full, v)
				}
			}
		}
	}
}

// maxKey bounds the length of a key assembled from its scopes: the
// APT::Periodic keys read are far shorter.
const maxKey = 256

// SplitLine splits `Key "value";`.
func SplitLine(s string) (key, value string, ok bool) {
	s = strings.TrimSpace(s)
	i := strings.IndexByte(s, '"')
	j := strings.LastIndexByte(s, '"')
	if i < 0 || j <= i {
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
