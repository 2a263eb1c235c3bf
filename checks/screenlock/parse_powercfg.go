package screenlock

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

var (
	hexIndexRE = regexp.MustCompile(`0x[0-9a-fA-F]{8}\b`)
	anyGUIDRE  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// parsePowercfgQuery reads `powercfg /qh SCHEME_CURRENT SUB SETTING` (or
// any longer listing that contains the setting, such as a full `powercfg
// /q`). Its labels are translated ("Current AC Power Setting Index",
// "Index des paramètres d'alimentation secteur actuels"), so it relies
// only on what every language shares: the setting's GUID, then the range
// lines, then the AC and the DC index, the last two hexadecimal numbers
// before the next GUID (the next setting or subgroup). UTF-16 (with a BOM)
// and CRLF are accepted.
func parsePowercfgQuery(b []byte, setting string) (ac, dc int, err error) {
	text := strings.ToLower(decodeText(b))
	i := strings.Index(text, strings.ToLower(setting))
	if i < 0 {
		return 0, 0, fmt.Errorf("powercfg output does not mention %s", setting)
	}
	section := text[i+len(setting):]
	if j := anyGUIDRE.FindStringIndex(section); j != nil {
		section = section[:j[0]]
	}
	hexes := hexIndexRE.FindAllString(section, -1)
	if len(hexes) < 2 {
		return 0, 0, errors.New("powercfg output has no AC and DC indexes")
	}
	a, err1 := strconv.ParseUint(hexes[len(hexes)-2][2:], 16, 32)
	d, err2 := strconv.ParseUint(hexes[len(hexes)-1][2:], 16, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("powercfg indexes are not hexadecimal")
	}
	return int(a), int(d), nil
}

// decodeText turns command output into a string: UTF-16LE/BE with a BOM
// (PowerShell redirections, some Windows tools), UTF-8 with or without a
// BOM otherwise.
func decodeText(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return utf16String(b[2:], false)
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return utf16String(b[2:], true)
	}
	return strings.TrimPrefix(string(b), "\ufeff")
}

func utf16String(b []byte, bigEndian bool) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(u))
}
