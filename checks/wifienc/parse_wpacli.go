package wifienc

import (
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// wpaStatus is what `wpa_cli -i IF status` says about the association. The
// ssid and bssid lines are deliberately not kept.
type wpaStatus struct {
	State          string
	KeyMgmt        string
	PairwiseCipher string
}

func parseWPACLIStatus(out []byte) wpaStatus {
	var st wpaStatus
	for line := range textlines.Each(out) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch k {
		case "wpa_state":
			st.State = v
		case "key_mgmt":
			st.KeyMgmt = v
		case "pairwise_cipher":
			st.PairwiseCipher = v
		}
	}
	return st
}

// connected reports whether the supplicant finished associating (and, for
// WPA, the key handshake).
func (st wpaStatus) connected() bool { return st.State == "COMPLETED" }

// security classifies wpa_supplicant's key management name (as printed by
// wpa_key_mgmt_txt) and pairwise cipher. ok is false for a name it does
// not know.
func (st wpaStatus) security() (sec string, enterprise, ok bool) {
	km := strings.ToUpper(st.KeyMgmt)
	ent := strings.Contains(km, "EAP") || strings.Contains(km, "802.1X")
	switch {
	case km == "":
		return "", false, false
	case km == "NONE":
		if strings.HasPrefix(strings.ToUpper(st.PairwiseCipher), "WEP") {
			return SecWEP, false, true
		}
		return SecOpen, false, true
	case strings.Contains(km, "NO WPA"):
		// "IEEE 802.1X (no WPA)" is dynamic WEP.
		return SecWEP, true, true
	case km == "OWE":
		return SecOWE, false, true
	case strings.Contains(km, "SAE"), strings.Contains(km, "SUITE-B-192"), km == "DPP":
		return SecWPA3, ent, true
	case strings.HasPrefix(km, "WPA-"), strings.HasPrefix(km, "WPA/"):
		return SecWPA, ent, true
	case strings.HasPrefix(km, "WPA2"), strings.HasPrefix(km, "FT-"), strings.Contains(km, "SUITE-B"), strings.HasPrefix(km, "FILS"):
		return SecWPA2, ent, true
	}
	return "", false, false
}
