package wifienc

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/host/live"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func eval(t *testing.T, f Facts, th *Thresholds) checks.Result {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var thr any
	if th != nil {
		thr = th
	}
	return Evaluate(checks.EvalInput{OS: "linux", Facts: b, Thresholds: thr})
}

func TestEvaluate(t *testing.T) {
	open := Link{Interface: "wlan0", Connected: true, Security: SecOpen, Source: "test"}
	wpa2 := Link{Interface: "wlan1", Connected: true, Security: SecWPA2, Source: "test"}
	wired := []Path{{Family: "ipv4", Interface: "eth0", Source: "test"}}
	wg := &Tunnel{Interface: "wg0", Kind: KindWireGuard, Source: "test"}
	tests := []struct {
		name        string
		facts       Facts
		th          *Thresholds
		want        checks.Status
		wantSummary string
	}{
		{"an open Wi-Fi stays a failure while the default route is wired",
			Facts{Links: []Link{open}, Paths: wired}, nil,
			checks.StatusFail, "no VPN carries the traffic (ipv4 goes out through eth0)"},
		{"one open link among two fails",
			Facts{Links: []Link{open, wpa2}, Paths: []Path{{Family: "ipv4", Interface: "wlan1"}}}, nil,
			checks.StatusFail, "open (no encryption) Wi-Fi on wlan0"},
		{"an open Wi-Fi without any route fails",
			Facts{Links: []Link{open}}, nil,
			checks.StatusFail, "no route to the internet"},
		{"an open Wi-Fi with unreadable routes fails with the reason",
			Facts{Links: []Link{open}, RouteError: "the routes could not be read: ip: timed out"}, nil,
			checks.StatusFail, "no approved VPN could be confirmed (the routes could not be read: ip: timed out)"},
		{"a VPN on IPv4 with IPv6 leaking over the Wi-Fi fails",
			Facts{Links: []Link{open}, Paths: []Path{{Family: "ipv4", Interface: "wg0", Tunnel: wg}, {Family: "ipv6", Interface: "wlan0"}}}, nil,
			checks.StatusFail, "ipv6 goes out through wlan0"},
		{"no approved VPNs at all means no exception",
			Facts{Links: []Link{open}, Paths: []Path{{Family: "ipv4", Interface: "wg0", Tunnel: wg}}}, &Thresholds{Allowed: []string{SecWPA2}, ApprovedVPNs: []string{}},
			checks.StatusFail, "not an approved VPN"},
		{"a policy relaxed to open passes an open network",
			Facts{Links: []Link{open}, Paths: wired}, &Thresholds{Allowed: []string{SecOpen, SecWPA2}},
			checks.StatusPass, "open (no encryption) Wi-Fi on wlan0"},
		{"a WPA3-only policy fails WPA2",
			Facts{Links: []Link{wpa2}, Paths: wired}, &Thresholds{Allowed: []string{SecWPA3}},
			checks.StatusFail, "WPA2-Personal Wi-Fi on wlan1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := eval(t, tc.facts, tc.th)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.want, tc.wantSummary)
			}
		})
	}
}

func TestEvaluateNamesTheApprovedTunnelInEvidence(t *testing.T) {
	res := eval(t, Facts{
		Links: []Link{{Interface: "en0", Connected: true, Security: SecOpen, Source: "system_profiler"}},
		Paths: []Path{{Family: "ipv4", Interface: "utun4", Source: "route -n get 1.1.1.1",
			Tunnel: &Tunnel{Interface: "utun4", Kind: KindWireGuard, Name: "Example Corp WG", Source: "scutil --nc status InterfaceName"}}},
	}, nil)
	want := map[string]any{
		"links_source":    "",
		"wifi":            []string{"en0: open (no encryption) (system_profiler)"},
		"internet_routes": []string{"ipv4 via utun4 (route -n get 1.1.1.1); tunnel utun4 (wireguard, Example Corp WG) recognised by scutil --nc status InterfaceName"},
		"vpn_approved_by": "wireguard",
	}
	if diff := cmp.Diff(want, res.Evidence); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

func TestEvaluateUndecodableFactsIsUnknown(t *testing.T) {
	res := Evaluate(checks.EvalInput{OS: "linux", Facts: json.RawMessage(`{"links":"wlan0"}`)})
	if res.Status != checks.StatusUnknown {
		t.Errorf("status = %s", res.Status)
	}
}

// TestNetworkNamesNeverLeaveTheMachine runs every sample that names a
// network through the collectors and checks that neither the facts (what
// is sent to the server) nor the verdict mention the name or the access
// point's address.
func TestNetworkNamesNeverLeaveTheMachine(t *testing.T) {
	secrets := []string{"ExampleHomeNet", "ExampleCafeGuest", "ExampleCafeGast", "ExampleVieuxRouteur", "ExampleOffice", "ExampleNeighbourNet", "ExampleOldRouter", "<redacted>", "02:00:00:00:01:00", "02:00:00:00:02:00", "02:00:00:00:03:00",
		"4578616d706c65436166654775657374", // ExampleCafeGuest in hex, as iwd's object paths carry it
		"SSID-", "fe:dc:ba"}
	hosts := map[string]*host.Fake{
		"linux wpa_cli": viaWiFi(t, withoutNM(t, laptop(t)).AddRun(argvWPACLI, stdout(checktest.Testdata(t, "linux", "wpa_cli__status_open.txt")), nil)),
		"windows":       winHost(t, stdout(checktest.Testdata(t, "windows", "netsh__wpa2_personal_en.txt")), nil, true, winRoutesWiFi),
		"darwin":        mac(t, "system_profiler__wpa2_personal.txt", "route__get_v4_en0.txt"),
		"darwin open":   mac(t, "system_profiler__open_redacted.txt", "route__get_v4_en0.txt"),
		"linux iwd open": viaWiFi(t, withIWD(t, laptop(t), "busctl__iwd_diagnostics_open.txt").
			AddRun(argvIWDType, stdout(checktest.Testdata(t, "linux", "busctl__iwd_network_type_open.txt")), nil)),
		"linux iwd wpa2":      viaWiFi(t, withIWD(t, laptop(t), "busctl__iwd_diagnostics_wpa2_personal.txt")),
		"darwin real open":    mac(t, "system_profiler__open_macos15_wh.txt", "route__get_v4_en0.txt"),
		"windows real french": winRealHost(t, stdout(checktest.Testdata(t, "windows", "netsh__open_fr_wh.txt")), "Wi-Fi", netshFRGUID, winRoutesWiFi),
	}
	for name, h := range hosts {
		t.Run(name+" keeps the network name out of facts and verdict", func(t *testing.T) {
			res, facts := collectAndEvaluate(t, h, nil)
			verdict, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(facts, []byte(s)) || bytes.Contains(verdict, []byte(s)) {
					t.Errorf("%q leaked:\nfacts %s\nverdict %s", s, facts, verdict)
				}
			}
			if bytes.Contains(bytes.ToLower(facts), []byte("ssid")) {
				t.Errorf("facts have an SSID field: %s", facts)
			}
		})
	}
}

func TestThresholds(t *testing.T) {
	tests := []struct {
		name    string
		th      Thresholds
		wantErr string
	}{
		{"the defaults are valid", *DefaultThresholds().(*Thresholds), ""},
		{"owe may be allowed", Thresholds{Allowed: []string{SecWPA2, SecOWE}}, ""},
		{"patterns are accepted", Thresholds{Allowed: []string{SecWPA2}, ApprovedVPNs: []string{"interface:wg*", "name:Contoso VPN*", "tun"}}, ""},
		{"an empty allowed list is refused", Thresholds{}, "at least one"},
		{"an unknown security type is refused", Thresholds{Allowed: []string{"wpa4"}}, `"wpa4" is not one of`},
		{"an unknown VPN kind is refused", Thresholds{Allowed: []string{SecWPA2}, ApprovedVPNs: []string{"wg0"}}, `"wg0" is not a tunnel kind`},
		{"a bad pattern is refused", Thresholds{Allowed: []string{SecWPA2}, ApprovedVPNs: []string{"interface:wg["}}, "syntax error"},
		{"an empty pattern is refused", Thresholds{Allowed: []string{SecWPA2}, ApprovedVPNs: []string{"name:"}}, "1 to 128"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.th.Validate()
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestPolicyFileSetsTheThresholds(t *testing.T) {
	p, err := checks.ParsePolicy([]byte("controls:\n  wifi_encryption:\n    allowed: [wpa3]\n    approved_vpns: [\"interface:wg*\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Thresholds{Allowed: []string{SecWPA3}, ApprovedVPNs: []string{"interface:wg*"}}
	if diff := cmp.Diff(want, p.Thresholds(checks.WiFiEncryption)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := checks.ParsePolicy([]byte("controls:\n  wifi_encryption:\n    approved_vpns: [anything]\n")); err == nil {
		t.Error("an unknown VPN kind was accepted")
	}
	t.Run("kinds match whatever their case", func(t *testing.T) {
		p, err := checks.ParsePolicy([]byte("controls:\n  wifi_encryption:\n    approved_vpns: [GlobalProtect, WireGuard]\n"))
		if err != nil {
			t.Fatal(err)
		}
		th := p.Thresholds(checks.WiFiEncryption).(*Thresholds)
		if diff := cmp.Diff([]string{KindGlobalProtect, KindWireGuard}, th.ApprovedVPNs); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if v, ok := th.approves(&Tunnel{Kind: KindGlobalProtect}); !ok || v != KindGlobalProtect {
			t.Errorf("a GlobalProtect tunnel is not approved: %q %v", v, ok)
		}
	})
}

// TestCollectThisMachine runs the Linux collector on the machine the tests
// run on; it only asserts that an answer with a reason comes back.
func TestCollectThisMachine(t *testing.T) {
	h := live.New()
	facts, err := Collect(context.Background(), h)
	var res checks.Result
	if err != nil {
		res = checks.Unknown(err.Error())
	} else {
		b, merr := json.Marshal(facts)
		if merr != nil {
			t.Fatal(merr)
		}
		res = Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b})
	}
	t.Logf("%s: %s %v", res.Status, res.Summary, res.Evidence)
	if res.Status == "" || res.Summary == "" {
		t.Errorf("no status or summary: %+v", res)
	}
}
