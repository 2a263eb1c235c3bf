package wifienc

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// airportInterface is one Wi-Fi interface of `system_profiler -json
// SPAirPortDataType`. The current network's name (its "_name", "<redacted>"
// without Location permission) and the list of other networks nearby are
// deliberately not decoded.
type airportInterface struct {
	Name    string `json:"_name"`
	Status  string `json:"spairport_status_information"`
	Current *struct {
		Security string `json:"spairport_security_mode"`
	} `json:"spairport_current_network_information"`
}

func parseSystemProfilerAirPort(out []byte) ([]airportInterface, error) {
	var doc struct {
		Items []struct {
			Interfaces []airportInterface `json:"spairport_airport_interfaces"`
		} `json:"SPAirPortDataType"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("decode system_profiler output: %w", err)
	}
	var ifs []airportInterface
	for _, it := range doc.Items {
		for _, i := range it.Interfaces {
			// awdl0 and llw0 are Apple's peer-to-peer links, not networks.
			if strings.HasPrefix(i.Name, "awdl") || strings.HasPrefix(i.Name, "llw") {
				continue
			}
			ifs = append(ifs, i)
		}
	}
	return ifs, nil
}

func (a airportInterface) connected() bool {
	return a.Current != nil || a.Status == "spairport_status_connected"
}

var airportModePrefix = regexp.MustCompile(`^s?pairport_security_mode_`)

// airportSecurity classifies a spairport_security_mode value. Some macOS
// releases spell the prefix without its leading "s"
// (pairport_security_mode_...); both are accepted.
func airportSecurity(mode string) (sec string, enterprise, ok bool) {
	m := airportModePrefix.ReplaceAllString(strings.ToLower(mode), "")
	if m == strings.ToLower(mode) {
		return "", false, false
	}
	// The mode's first word is the protocol; the rest says personal or
	// enterprise, and mixed (WPA/WPA2) or transition (WPA2/WPA3).
	words := strings.Split(m, "_")
	enterprise = slices.Contains(words, "enterprise")
	mixed := slices.Contains(words, "mixed") || slices.Contains(words, "transition")
	switch words[0] {
	case "none", "open":
		return SecOpen, false, true
	case "owe":
		return SecOWE, false, true
	case "wep", "dynamic":
		return SecWEP, enterprise, true
	case "wpa":
		if mixed {
			return SecWPA2, enterprise, true
		}
		return SecWPA, enterprise, true
	case "wpa2":
		return SecWPA2, enterprise, true
	case "wpa3":
		if mixed {
			return SecWPA2, enterprise, true
		}
		return SecWPA3, enterprise, true
	}
	return "", false, false
}

// ncService is one line of `scutil --nc list`.
type ncService struct {
	Connected bool
	ID        string
	Name      string
	Type      string // the bracketed type: IPSec, PPP:L2TP, VPN:com.wireguard.macos
}

var ncLine = regexp.MustCompile(`^\*?\s*\(([^)]*)\)\s+([0-9A-Fa-f-]{36})\s+.*?"(.*)"\s+\[([^\]]*)\]\s*$`)

func parseSCUtilNCList(out []byte) []ncService {
	var svcs []ncService
	for line := range textlines.Each(out) {
		m := ncLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		svcs = append(svcs, ncService{Connected: m[1] == "Connected", ID: m[2], Name: m[3], Type: m[4]})
	}
	return svcs
}

// parseSCUtilNCStatusInterface returns the InterfaceName the extended
// status of `scutil --nc status SERVICE` gives.
func parseSCUtilNCStatusInterface(out []byte) string {
	for line := range textlines.Each(out) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && strings.TrimSpace(k) == "InterfaceName" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
