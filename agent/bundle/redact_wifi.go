package bundle

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/postern-dev/postern/checks/host"
)

// Wi-Fi network names (and access point addresses, which locate a
// device as well as a name does) are in some of the tools' output the
// wifi_encryption check reads. The check never needs them: it reads the
// security of the network in use. A bundle keeps the output with each
// name replaced by a stand-in, so that a replay gives the same verdict.
const redactedName = "redacted"

// wifiNames maps the stand-in iwd network paths a redacting host hands
// out back to the real ones, since the collector passes a path it was
// given to the next command.
type wifiNames struct {
	mu     sync.Mutex
	toReal map[string]string // stand-in hex -> real hex
	toFake map[string]string // real hex -> stand-in hex
}

// iwdNetworkPath is an iwd network object: the network name in hex, then
// its type (open, wep, psk, 8021x).
var iwdNetworkPath = regexp.MustCompile(`(/net/connman/iwd/[0-9]+/[0-9]+/)([0-9a-fA-F]+)(_[a-z0-9]+)`)

// Run runs the command on the real host, mapping stand-in iwd paths in
// args back to the real ones, and redacts network names from its output.
func (r redactor) Run(ctx context.Context, name string, args ...string) (host.Output, error) {
	real := make([]string, len(args))
	for i, a := range args {
		real[i] = r.names.real(a)
	}
	out, err := r.Host.Run(ctx, name, real...)
	switch tool(name) {
	case "wpa_cli":
		out.Stdout = redactKeyValues(out.Stdout)
	case "netsh":
		out.Stdout = redactNetsh(out.Stdout)
	case "system_profiler":
		out.Stdout = redactAirport(out.Stdout)
	case "busctl":
		out.Stdout = r.names.fake(out.Stdout)
	}
	return out, err
}

// tool is a command's base name, lower case, without ".exe".
func tool(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	return strings.TrimSuffix(strings.ToLower(name), ".exe")
}

func (w *wifiNames) real(arg string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return iwdNetworkPath.ReplaceAllStringFunc(arg, func(p string) string {
		m := iwdNetworkPath.FindStringSubmatch(p)
		if real, ok := w.toReal[strings.ToLower(m[2])]; ok {
			return m[1] + real + m[3]
		}
		return p
	})
}

func (w *wifiNames) fake(b []byte) []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return iwdNetworkPath.ReplaceAllFunc(b, func(p []byte) []byte {
		m := iwdNetworkPath.FindSubmatch(p)
		real := strings.ToLower(string(m[2]))
		fake, ok := w.toFake[real]
		if !ok {
			if w.toReal == nil {
				w.toReal, w.toFake = map[string]string{}, map[string]string{}
			}
			fake = hex.EncodeToString(fmt.Appendf(nil, "%s-%d", redactedName, len(w.toFake)+1))
			w.toFake[real], w.toReal[fake] = fake, real
		}
		return append(append(append([]byte(nil), m[1]...), fake...), m[3]...)
	})
}

// redactKeyValues replaces the values of wpa_cli status's ssid= and
// bssid= lines.
func redactKeyValues(b []byte) []byte {
	return mapLines(b, func(line string) string {
		for _, k := range []string{"ssid=", "bssid=", "p2p_device_address="} {
			if strings.HasPrefix(line, k) {
				return k + redactedName
			}
		}
		return line
	})
}

// netshNameLabels are the labels of `netsh wlan show interfaces` lines
// that hold a network name or an access point address, lower case: the
// SSID and BSSID labels are the same in every language; the profile
// (named after the network by default) is translated.
var netshNameLabels = []string{"profile", "profil", "perfil", "profilo", "profiel", "профиль"}

// redactNetsh replaces the values of the name lines of netsh's output,
// keeping its encoding (UTF-16LE with a BOM, or an ASCII-compatible code
// page) and line ends.
func redactNetsh(b []byte) []byte {
	redact := func(line string) string {
		label, _, ok := strings.Cut(line, ":")
		if !ok {
			return line
		}
		l := strings.ToLower(strings.TrimSpace(label))
		if strings.Contains(l, "ssid") || slices.Contains(netshNameLabels, l) {
			return label + ": " + redactedName
		}
		return line
	}
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) && len(b)%2 == 0 {
		u := make([]uint16, (len(b)-2)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2+2*i:])
		}
		s := mapLines([]byte(string(utf16.Decode(u))), redact)
		out := []byte{0xff, 0xfe}
		for _, c := range utf16.Encode([]rune(string(s))) {
			out = binary.LittleEndian.AppendUint16(out, c)
		}
		return out
	}
	return mapLines(b, redact)
}

// mapLines applies fn to each line of b without its line end (LF or
// CRLF), keeping the line ends.
func mapLines(b []byte, fn func(string) string) []byte {
	var out []byte
	for len(b) > 0 {
		line, rest, found := bytes.Cut(b, []byte{'\n'})
		end := ""
		if found {
			end = "\n"
		}
		if l := len(line); l > 0 && line[l-1] == '\r' {
			line, end = line[:l-1], "\r"+end
		}
		out = append(append(out, fn(string(line))...), end...)
		b = rest
	}
	return out
}

// Keys of `system_profiler -json SPAirPortDataType` that hold names of
// networks: the one in use (its "_name") and the list of networks nearby.
const (
	airportCurrent = "spairport_current_network_information"
	airportNearby  = "spairport_airport_other_local_wireless_networks"
)

// redactAirport replaces the current network's name and drops the list
// of nearby networks. Output that is not JSON is replaced whole: it could
// hold the names in a form this does not know.
func redactAirport(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 {
		return b
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []byte("redacted by postern-agent bundle: system_profiler output that is not JSON\n")
	}
	out, err := json.MarshalIndent(redactAirportValue(v), "", "  ")
	if err != nil {
		return []byte("redacted by postern-agent bundle\n")
	}
	return append(out, '\n')
}

func redactAirportValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			switch {
			case k == airportNearby:
				t[k] = []any{}
			case k == airportCurrent:
				if m, ok := x.(map[string]any); ok {
					if _, ok := m["_name"]; ok {
						m["_name"] = redactedName
					}
					for mk := range m {
						if strings.Contains(mk, "bssid") {
							m[mk] = redactedName
						}
					}
				}
			default:
				t[k] = redactAirportValue(x)
			}
		}
	case []any:
		for i := range t {
			t[i] = redactAirportValue(t[i])
		}
	}
	return v
}
