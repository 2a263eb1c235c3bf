package wifienc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The wpa_cli captures below were printed by a user polling `wpa_cli -i
// wlan0 status` on a Raspberry Pi in gitbls/autoAP issue #19 (see
// testdata/README.md); they keep that network's real name and addresses,
// which must not reach the facts.
func TestCollectLinuxRealWPACLI(t *testing.T) {
	tests := []struct {
		name, file  string
		want        checks.Status
		wantSummary string
	}{
		{"a completed WPA2-PSK association passes; the TKIP group cipher of a mixed-mode router does not change the key management",
			"wpa_cli__status_wpa2_psk_tkip_group_autoap19.txt", checks.StatusPass, "WPA2-Personal Wi-Fi on wlan0"},
		{"a supplicant still associating is not connected, so no Wi-Fi is in use",
			"wpa_cli__status_associating_autoap19.txt", checks.StatusNotApplicable, "no Wi-Fi in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := viaWiFi(t, withoutNM(t, laptop(t)).AddRun(argvWPACLI, stdout(checktest.Testdata(t, "linux", tc.file)), nil))
			res, facts := collectAndEvaluate(t, h, nil)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q\nfacts: %s", res.Status, res.Summary, tc.want, tc.wantSummary, facts)
			}
			for _, s := range []string{"FRITZ", "7590", "dc:39:6f", "b8:27:eb", "ba:27:eb", "5aa1fcdd"} {
				if bytes.Contains(facts, []byte(s)) {
					t.Errorf("%q leaked into the facts: %s", s, facts)
				}
			}
		})
	}
}
