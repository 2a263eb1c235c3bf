package diskenc

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
)

// mbdeVolume is one volume block of `manage-bde -status`.
type mbdeVolume struct {
	letter string // "C:"
	// protected is the Protection Status field (nil when the localized
	// text was not understood); percent is Percentage Encrypted.
	protected *bool
	percent   *float64
	rawStatus string
}

// mbdeFieldProtection and mbdeFieldPercent are the positions of those
// fields in a volume block. manage-bde's labels are translated but its
// fields always come in the same order: Size, BitLocker Version,
// Conversion Status, Percentage Encrypted, Encryption Method, Protection
// Status, Lock Status, Identification Field, Key Protectors.
const (
	mbdeFieldPercent    = 3
	mbdeFieldProtection = 5
)

var (
	driveLetterRE = regexp.MustCompile(`(?:^|[\s"'])([A-Za-z]):(?:$|[\s"'\]])`)
	percentRE     = regexp.MustCompile(`([0-9]+(?:[.,][0-9]+)?)\s*%`)
)

// parseManageBDE reads `manage-bde -status` by its structure, not its
// words: a volume starts at an unindented line holding a drive letter, and
// its fields are the indented "label: value" lines after it. The output
// may be UTF-16LE (with or without a BOM), UTF-8 or the console's code
// page, with CRLF line ends.
func parseManageBDE(b []byte) []mbdeVolume {
	text := decodeConsole(b)
	var out []mbdeVolume
	var cur *mbdeVolume
	field := 0
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		if !indented {
			if m := driveLetterRE.FindStringSubmatch(line); m != nil {
				out = append(out, mbdeVolume{letter: strings.ToUpper(m[1]) + ":"})
				cur, field = &out[len(out)-1], 0
			} else if !strings.HasPrefix(line, "[") {
				// A volume without a letter, or trailing text: its
				// fields belong to no lettered volume.
				cur = nil
			}
			continue
		}
		if cur == nil {
			continue
		}
		_, value, ok := strings.Cut(line, ":")
		if !ok {
			continue // a key protector line
		}
		value = strings.TrimSpace(value)
		switch field {
		case mbdeFieldPercent:
			if m := percentRE.FindStringSubmatch(value); m != nil {
				if p, err := strconv.ParseFloat(strings.Replace(m[1], ",", ".", 1), 64); err == nil {
					cur.percent = &p
				}
			}
		case mbdeFieldProtection:
			cur.rawStatus = value
			cur.protected = protectionWord(value)
		}
		field++
	}
	return out
}

// protectionOff and protectionOn are word stems of the Protection Status
// value in the languages we have seen or expect ("Protection Off", "Der
// Schutz ist deaktiviert.", "Protection désactivée", "Protección
// desactivada", "Protezione disattivata", "Beveiliging uit"); off is
// checked first because "deaktiviert" contains "aktiviert".
var (
	protectionOff = []string{"off", "deaktiv", "désactiv", "desactiv", "disattiv", "uit", "nicht",
		"sactiv"} // "désactivée" read in the wrong code page
	protectionOn = []string{"on", "aktiv", "activ", "attiv", "aan"}
)

func protectionWord(v string) *bool {
	words := strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return !unicode.IsLetter(r) })
	match := func(stems []string) bool {
		for _, w := range words {
			for _, s := range stems {
				if (len(s) <= 3 && w == s) || (len(s) > 3 && strings.HasPrefix(w, s)) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case match(protectionOff):
		f := false
		return &f
	case match(protectionOn):
		t := true
		return &t
	}
	return nil
}

// decodeConsole turns UTF-16LE output (a BOM, or NULs in every other
// byte) into a string; anything else is taken as it is.
func decodeConsole(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return utf16LE(b[2:])
	case len(b) >= 4 && b[1] == 0 && b[3] == 0:
		return utf16LE(b)
	}
	return string(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
}

func utf16LE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}
