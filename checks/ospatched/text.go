package ospatched

import (
	"bytes"
	"encoding/base64"
	"unicode/utf16"
)

// decodeText turns tool output into UTF-8: UTF-16LE (with or without a
// BOM, as Windows PowerShell writes when redirected) is converted, a
// UTF-8 BOM dropped and CRLF turned into LF.
func decodeText(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		b = utf16le(b[2:])
	case len(b) >= 2 && b[1] == 0 && b[0] != 0:
		b = utf16le(b)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

func utf16le(b []byte) []byte {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return []byte(string(utf16.Decode(u)))
}

// psEncoded is PowerShell's -EncodedCommand argument: base64 of the
// script in UTF-16LE, which no command-line quoting can alter.
func psEncoded(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return base64.StdEncoding.EncodeToString(b)
}
