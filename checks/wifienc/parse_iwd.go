package wifienc

import (
	"encoding/json"
	"fmt"
	"strings"
)

// busctlStrings returns the values of a get-property of several
// properties whose D-Bus types are given one letter each (s or o).
func busctlStrings(out []byte, types string) ([]string, error) {
	vals, err := parseBusctl(out)
	if err != nil {
		return nil, err
	}
	if len(vals) != len(types) {
		return nil, fmt.Errorf("busctl printed %d values, want %d", len(vals), len(types))
	}
	res := make([]string, len(vals))
	for i, v := range vals {
		if v.Type != string(types[i]) {
			return nil, fmt.Errorf("busctl value %d has type %q, want %c", i, v.Type, types[i])
		}
		if err := json.Unmarshal(v.Data, &res[i]); err != nil {
			return nil, fmt.Errorf("busctl value %d: %w", i, err)
		}
	}
	return res, nil
}

// busctlDictString returns one string entry of the a{sv} dictionary a
// `call` returned (GetDiagnostics); the other entries (the access point's
// address among them) are not decoded. ok is false when the key is absent.
func busctlDictString(out []byte, key string) (string, bool, error) {
	vals, err := parseBusctl(out)
	if err != nil {
		return "", false, err
	}
	if vals[0].Type != "a{sv}" {
		return "", false, fmt.Errorf("busctl returned type %q, want a{sv}", vals[0].Type)
	}
	var dicts []map[string]busctlValue
	if err := json.Unmarshal(vals[0].Data, &dicts); err != nil || len(dicts) != 1 {
		return "", false, fmt.Errorf("busctl returned %.80s, want one dictionary", vals[0].Data)
	}
	v, ok := dicts[0][key]
	if !ok {
		return "", false, nil
	}
	var s string
	if v.Type != "s" || json.Unmarshal(v.Data, &s) != nil {
		return "", false, fmt.Errorf("busctl entry %s has type %q, want s", key, v.Type)
	}
	return s, true, nil
}

// iwdDiagnosticSecurity classifies the Security value of iwd's
// StationDiagnostic.GetDiagnostics (diagnostic_akm_suite_to_security in
// iwd's src/diagnostic.c): the AKM negotiated with the access point.
func iwdDiagnosticSecurity(s string) (sec string, enterprise, ok bool) {
	base, _, _ := strings.Cut(s, " + ") // "WPA2-Personal + FT"
	switch base {
	case "WPA1-Personal":
		return SecWPA, false, true
	case "WPA2-Personal":
		return SecWPA2, false, true
	case "WPA2-Enterprise", "FILS":
		return SecWPA2, true, true
	case "WPA3-Personal":
		return SecWPA3, false, true
	case "OWE":
		return SecOWE, false, true
	}
	return "", false, false
}

// iwdNetworkType classifies net.connman.iwd.Network's Type. "psk" and
// "8021x" do not say which WPA generation was negotiated (iwd joins WPA1,
// WPA2 and WPA3 networks under "psk"), so only open and WEP are decided.
func iwdNetworkType(t string) (sec string, ok bool) {
	switch t {
	case "open":
		return SecOpen, true
	case "wep":
		return SecWEP, true
	}
	return "", false
}
