package wifienc

import (
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var (
	argvSystemProfiler = []string{systemProfilerPath, "-json", "SPAirPortDataType"}
	argvRouteV4        = []string{routePath, "-n", "get", probeIPv4}
	argvRouteV6        = []string{routePath, "-n", "get", "-inet6", probeIPv6}
	argvNCList         = []string{scutilPath, "--nc", "list"}
	argvNCStatusWG     = []string{scutilPath, "--nc", "status", "3F2504E0-4F89-41D3-9A0C-0305E82C3301"}
)

func mac(t testing.TB, profiler, routeV4 string) *host.Fake {
	m := func(name string) host.Output { return stdout(checktest.Testdata(t, "darwin", name)) }
	return host.NewFake("darwin", "arm64").
		AddRun(argvSystemProfiler, m(profiler), nil).
		AddRun(argvRouteV4, m(routeV4), nil).
		AddRun(argvRouteV6, host.Output{Stderr: checktest.Testdata(t, "darwin", "route__get_v6_not_in_table.stderr.txt"), ExitCode: 1}, nil)
}

func TestCollectDarwin(t *testing.T) {
	m := func(name string) host.Output { return stdout(checktest.Testdata(t, "darwin", name)) }
	tests := []struct {
		name        string
		host        *host.Fake
		want        checks.Status
		wantSummary string
	}{
		{"WPA2 Personal passes",
			mac(t, "system_profiler__wpa2_personal.txt", "route__get_v4_en0.txt"),
			checks.StatusPass, "WPA2-Personal Wi-Fi on en0"},
		{"WPA2/WPA3 transition with the short key prefix passes as WPA2",
			mac(t, "system_profiler__wpa3_transition_short_prefix.txt", "route__get_v4_en0.txt"),
			checks.StatusPass, "WPA2-Personal Wi-Fi on en0"},
		{"an open network (name redacted) fails",
			mac(t, "system_profiler__open_redacted.txt", "route__get_v4_en0.txt"),
			checks.StatusFail, "open (no encryption) Wi-Fi on en0 and no VPN carries the traffic (ipv4 goes out through en0)"},
		{"an open network passes through the WireGuard app's utun, named by its service",
			mac(t, "system_profiler__open_redacted.txt", "route__get_v4_utun4.txt").
				AddRun(argvNCList, m("scutil__nc_list_wireguard.txt"), nil).
				AddRun(argvNCStatusWG, m("scutil__nc_status_wireguard.txt"), nil),
			checks.StatusPass, "approved VPN utun4 (wireguard, Example Corp WG)"},
		{"an open network through a utun no VPN service owns fails",
			mac(t, "system_profiler__open_redacted.txt", "route__get_v4_utun4.txt").
				AddRun(argvNCList, m("scutil__nc_list_none.txt"), nil),
			checks.StatusFail, "utun4 (vpn) carrying ipv4 is not an approved VPN"},
		{"an unknown security mode is unknown, not pass",
			mac(t, "system_profiler__unknown_mode.txt", "route__get_v4_en0.txt"),
			checks.StatusUnknown, `"spairport_security_mode_wpa4_quantum"`},
		{"a Wi-Fi that is not connected is not applicable",
			mac(t, "system_profiler__not_connected.txt", "route__get_v4_en0.txt"),
			checks.StatusNotApplicable, "no Wi-Fi in use (en0 not connected)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, facts := collectAndEvaluate(t, tc.host, nil)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q\nfacts: %s", res.Status, res.Summary, tc.want, tc.wantSummary, facts)
			}
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "System Settings > Wi-Fi") {
				t.Errorf("remediation %q does not say where to click on macOS", res.Remediation)
			}
		})
	}
}

func TestCollectDarwinErrors(t *testing.T) {
	tests := []struct {
		name    string
		host    *host.Fake
		wantErr string
	}{
		{"a missing system_profiler says so", host.NewFake("darwin", "arm64"), "system_profiler is not installed"},
		{"a system_profiler that timed out says so",
			host.NewFake("darwin", "arm64").AddRun(argvSystemProfiler, host.Output{}, host.ErrTimeout), "timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := collectAndEvaluateErr(t, tc.host)
			if !strings.Contains(got, tc.wantErr) {
				t.Errorf("error %q, want it to contain %q", got, tc.wantErr)
			}
		})
	}
}
