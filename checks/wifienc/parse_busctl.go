package wifienc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// busctlValue is one value as `busctl --json=short` prints it: its D-Bus
// signature and its data. `get-property` prints one per property, each on
// its own line; `call` prints one whose data is the array of return values.
type busctlValue struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// parseBusctl decodes the stream of values busctl printed.
func parseBusctl(out []byte) ([]busctlValue, error) {
	dec := json.NewDecoder(bytes.NewReader(out))
	var vals []busctlValue
	for {
		var v busctlValue
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("decode busctl output: %w", err)
		}
		vals = append(vals, v)
	}
	if len(vals) == 0 {
		return nil, errors.New("busctl printed no value")
	}
	return vals, nil
}

// busctlObjectPath returns the object path a `call` returned (type "o") or
// a `get-property` gave (type "o").
func busctlObjectPath(out []byte) (string, error) {
	vals, err := parseBusctl(out)
	if err != nil {
		return "", err
	}
	v := vals[0]
	if v.Type != "o" {
		return "", fmt.Errorf("busctl returned type %q, want an object path", v.Type)
	}
	var p string
	if err := json.Unmarshal(v.Data, &p); err == nil {
		return p, nil
	}
	var ps []string
	if err := json.Unmarshal(v.Data, &ps); err != nil || len(ps) != 1 {
		return "", fmt.Errorf("busctl returned %s, want one object path", v.Data)
	}
	return ps[0], nil
}

// busctlUint32s returns the n unsigned integers a `get-property` of n
// properties of type "u" printed, in order.
func busctlUint32s(out []byte, n int) ([]uint32, error) {
	vals, err := parseBusctl(out)
	if err != nil {
		return nil, err
	}
	if len(vals) != n {
		return nil, fmt.Errorf("busctl printed %d values, want %d", len(vals), n)
	}
	res := make([]uint32, n)
	for i, v := range vals {
		if v.Type != "u" {
			return nil, fmt.Errorf("busctl value %d has type %q, want u", i, v.Type)
		}
		if err := json.Unmarshal(v.Data, &res[i]); err != nil {
			return nil, fmt.Errorf("busctl value %d: %w", i, err)
		}
	}
	return res, nil
}

// NetworkManager's NM80211ApFlags and NM80211ApSecurityFlags bits
// (NetworkManager D-Bus API, nm-dbus-interface.h).
const (
	apFlagPrivacy = 0x1

	secPairWEP40     = 0x1
	secPairWEP104    = 0x2
	secPairTKIP      = 0x4
	secPairCCMP      = 0x8
	secKeyMgmtPSK    = 0x100
	secKeyMgmt8021X  = 0x200
	secKeyMgmtSAE    = 0x400
	secKeyMgmtOWE    = 0x800
	secKeyMgmtOWETM  = 0x1000
	secKeyMgmtSuiteB = 0x2000
)

// nmSecurity classifies an access point from its Flags, WpaFlags and
// RsnFlags. A network offering several modes is reported as the weakest
// one a current client would still use: RSN (WPA2) over WPA, PSK or 802.1X
// over SAE in transition mode.
func nmSecurity(flags, wpa, rsn uint32) (sec string, enterprise bool, detail string) {
	detail = fmt.Sprintf("Flags=%#x WpaFlags=%#x RsnFlags=%#x", flags, wpa, rsn)
	if names := secFlagNames(wpa | rsn); names != "" {
		detail += " (" + names + ")"
	}
	switch {
	case rsn&(secKeyMgmtPSK|secKeyMgmt8021X) != 0:
		return SecWPA2, rsn&secKeyMgmt8021X != 0, detail
	case rsn&(secKeyMgmtSAE|secKeyMgmtSuiteB) != 0:
		return SecWPA3, rsn&secKeyMgmtSuiteB != 0, detail
	case rsn&secKeyMgmtOWE != 0:
		return SecOWE, false, detail
	case wpa&(secKeyMgmtPSK|secKeyMgmt8021X) != 0:
		return SecWPA, wpa&secKeyMgmt8021X != 0, detail
	case flags&apFlagPrivacy != 0:
		// Privacy without WPA or RSN is static or dynamic WEP.
		return SecWEP, false, detail
	}
	// No privacy: an open network, possibly the open side of an OWE
	// transition pair (OWE_TM), which is still unencrypted.
	return SecOpen, false, detail
}

func secFlagNames(f uint32) string {
	names := []struct {
		bit  uint32
		name string
	}{
		{secPairWEP40, "wep40"}, {secPairWEP104, "wep104"}, {secPairTKIP, "tkip"}, {secPairCCMP, "ccmp"},
		{secKeyMgmtPSK, "psk"}, {secKeyMgmt8021X, "802.1x"}, {secKeyMgmtSAE, "sae"},
		{secKeyMgmtOWE, "owe"}, {secKeyMgmtOWETM, "owe-tm"}, {secKeyMgmtSuiteB, "suite-b-192"},
	}
	var out []string
	for _, n := range names {
		if f&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ", ")
}
