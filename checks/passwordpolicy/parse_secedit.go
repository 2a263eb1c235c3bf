package passwordpolicy

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf16"
)

// decodeText turns secedit's UTF-16LE (with BOM) or UTF-8 output into a
// string with LF line ends.
func decodeText(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		b = b[2:]
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		return strings.ReplaceAll(string(utf16.Decode(u)), "\r\n", "\n")
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		b = b[3:]
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// parseSeceditSystemAccess returns the integer keys of the [System Access]
// section of a `secedit /export` INF.
func parseSeceditSystemAccess(b []byte) map[string]int {
	out := map[string]int{}
	in := false
	for _, line := range strings.Split(decodeText(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			in = strings.EqualFold(line, "[System Access]")
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			out[strings.TrimSpace(k)] = n
		}
	}
	return out
}

// netAccounts is what `net accounts` shows, read by position because its
// labels and words ("Never", "Nie", "Jamais") are localized.
type netAccounts struct {
	maxAge, minLength, history, lockout int
}

// parseNetAccounts reads lines 3-6 of `net accounts` (maximum age,
// minimum length, history, lockout threshold). A value that is not a
// number on those lines is the localized "Unlimited"/"None"/"Never": 0.
func parseNetAccounts(b []byte) (netAccounts, bool) {
	var vals []string
	for _, line := range strings.Split(decodeText(b), "\n") {
		line = strings.TrimSpace(line)
		i := strings.LastIndex(line, ":")
		if i < 0 || i == len(line)-1 {
			continue
		}
		vals = append(vals, strings.TrimSpace(line[i+1:]))
	}
	if len(vals) < 6 {
		return netAccounts{}, false
	}
	num := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	return netAccounts{maxAge: num(vals[2]), minLength: num(vals[3]), history: num(vals[4]), lockout: num(vals[5])}, true
}
