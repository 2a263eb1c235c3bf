package wifienc

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf16"
)

// netshInterface is one interface block of `netsh wlan show interfaces`.
// The SSID, BSSID and profile lines are deliberately not kept.
type netshInterface struct {
	Name   string
	GUID   string
	Auth   string
	Cipher string
}

// connected reports whether the block shows an association: Windows only
// prints the authentication and cipher lines while connected.
func (n netshInterface) connected() bool { return n.Auth != "" || n.Cipher != "" }

var (
	netshKV   = regexp.MustCompile(`^\s*(\S.*?)\s+:\s?(.*)$`)
	guidRE    = regexp.MustCompile(`^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$`)
	netshWPA  = regexp.MustCompile(`^WPA([23]?)(-|$)`)
	cipherRE  = regexp.MustCompile(`(?i)^(CCMP|GCMP|TKIP|WEP|BIP)(-\d+)?$`)
	noneWords = []string{"none", "keine", "aucun", "aucune", "ninguno", "ninguna", "nessuno", "nessuna", "nenhum", "nenhuma", "geen", "brak", "žádné", "нет", "なし", "无", "無", "없음"}
	openWords = []string{"open", "offen", "ouvrir", "ouvert", "ouverte", "abierta", "abierto", "aperta", "aperto", "aberta", "aberto", "otwarte", "otevřené", "открыть", "オープン", "开放式", "開放式", "개방"}
	// cipherLabels are the Cipher line's label in the display languages
	// whose samples we have; other languages are found by the structure
	// (the cipher line follows the authentication line).
	cipherLabels = []string{"cipher", "verschlüsselung", "chiffrement", "cifrado", "crittografia", "codificação", "codering", "szyfr", "šifra", "шифр", "暗号", "密码", "加密"}
)

// decodeConsole turns console output into UTF-8 text: UTF-16LE when it
// starts with a byte-order mark or looks like it (every other byte zero),
// UTF-8 otherwise (an OEM code page's non-ASCII bytes stay as they are:
// only ASCII values are relied on).
func decodeConsole(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return decodeUTF16LE(b[2:])
	case len(b) >= 4 && b[1] == 0 && b[3] == 0 && b[0] != 0:
		return decodeUTF16LE(b)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return string(b)
}

func decodeUTF16LE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

type kv struct{ key, value string }

// parseNetshWlanInterfaces splits the output into interface blocks by
// their GUID line (the third line of each block in every language) and
// finds the authentication and cipher lines of each.
func parseNetshWlanInterfaces(out []byte) []netshInterface {
	text := strings.ReplaceAll(decodeConsole(out), "\r\n", "\n")
	var lines []kv
	for _, line := range strings.Split(text, "\n") {
		m := netshKV.FindStringSubmatch(strings.TrimRight(line, "\r "))
		if m == nil {
			continue
		}
		lines = append(lines, kv{key: strings.TrimSpace(m[1]), value: strings.TrimSpace(m[2])})
	}
	var starts []int
	for i, l := range lines {
		if guidRE.MatchString(l.value) && i >= 2 {
			starts = append(starts, i-2)
		}
	}
	ifaces := make([]netshInterface, 0, len(starts))
	for n, s := range starts {
		end := len(lines)
		if n+1 < len(starts) {
			end = starts[n+1]
		}
		block := lines[s:end]
		ni := netshInterface{Name: block[0].value, GUID: normGUID(block[2].value)}
		if c := cipherIndex(block); c > 0 {
			ni.Cipher, ni.Auth = block[c].value, block[c-1].value
		}
		ifaces = append(ifaces, ni)
	}
	return ifaces
}

// cipherIndex finds the cipher line: by its label in a known language, or
// by a value that names a cipher or says "none" in a known language.
func cipherIndex(block []kv) int {
	for i, l := range block {
		if i > 0 && containsFold(cipherLabels, l.key) {
			return i
		}
	}
	for i, l := range block {
		if i > 3 && (cipherRE.MatchString(l.value) || containsFold(noneWords, l.value)) && looksLikeAuth(block[i-1].value) {
			return i
		}
	}
	return -1
}

// looksLikeAuth guards the structural search against a network whose name
// happens to be a cipher's name: the line before the cipher names an
// authentication method.
func looksLikeAuth(v string) bool {
	u := strings.ToUpper(v)
	return strings.Contains(u, "WPA") || strings.Contains(u, "OWE") || strings.Contains(u, "WEP") ||
		strings.Contains(u, "SHARED") || containsFold(openWords, v)
}

func containsFold(list []string, s string) bool {
	for _, w := range list {
		if strings.EqualFold(w, s) {
			return true
		}
	}
	return false
}

func normGUID(s string) string {
	return strings.ToLower(strings.Trim(s, "{}"))
}

// netshSecurity classifies an authentication and cipher pair. WEP shows
// as authentication "Open" (or "Shared") with cipher "WEP"; an open network
// as "Open" with cipher "None", both words translated.
func netshSecurity(auth, cipher string) (sec string, enterprise, ok bool) {
	a := strings.ToUpper(strings.ReplaceAll(auth, " ", ""))
	enterprise = strings.Contains(a, "ENTERPRISE") || strings.Contains(a, "ENTREPRISE") ||
		strings.Contains(a, "EMPRESA") || strings.Contains(a, "UNTERNEHMEN") || strings.Contains(a, "AZIENDA") ||
		strings.Contains(a, "802.1X")
	c := strings.ToUpper(cipher)
	wpa := netshWPA.FindStringSubmatch(a)
	switch {
	case wpa != nil && wpa[1] == "3":
		return SecWPA3, enterprise, true
	case wpa != nil && wpa[1] == "2":
		return SecWPA2, enterprise, true
	case wpa != nil:
		return SecWPA, enterprise, true
	case a == "OWE":
		return SecOWE, false, true
	case strings.HasPrefix(c, "WEP"):
		return SecWEP, false, true
	case containsFold(noneWords, cipher) || (containsFold(openWords, auth) && cipher == ""):
		return SecOpen, false, true
	}
	return "", false, false
}
