package firewall

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
	"github.com/postern-dev/postern/internal/clock"
)

var nftArgv = []string{nftPath, "-j", "list", "ruleset"}

func linuxHost(t *testing.T) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddFile(disableIPv6Path, []byte("0\n")).
		AddFile(ifInet6Path, []byte("00000000000000000000000000000001 01 80 10 80       lo\n"))
}

func TestCollectLinux(t *testing.T) {
	ctx := context.Background()
	notRoot := host.Output{Stderr: checktest.Testdata(t, "linux", "nft__nonroot_stderr.txt"), ExitCode: 1}
	tests := []struct {
		name       string
		host       *host.Fake
		wantStatus checks.Status
		wantInErr  string
	}{
		{"ufw enabled passes", linuxHost(t).
			AddRun(nftArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "nft__ufw_active.txt")}, nil).
			AddRun([]string{iptablesSavePath}, host.Output{Stdout: checktest.Testdata(t, "linux", "iptables-save__ufw_active.txt")}, nil).
			AddFile(ufwConfPath, checktest.Testdata(t, "linux", "ufw.conf__enabled.txt")).
			AddRun([]string{ufwPath, "status"}, host.Output{Stdout: checktest.Testdata(t, "linux", "ufw__active.txt")}, nil),
			checks.StatusPass, ""},
		{"firewalld running passes", linuxHost(t).
			AddRun(nftArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "nft__firewalld_public.txt")}, nil).
			AddRun([]string{firewallCmdPath, "--state"}, host.Output{Stdout: checktest.Testdata(t, "linux", "firewall-cmd__running.txt")}, nil),
			checks.StatusPass, ""},
		{"an accept-all ruleset fails", linuxHost(t).
			AddRun(nftArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "nft__nftables_accept.txt")}, nil),
			checks.StatusFail, ""},
		{"an IPv4-only legacy firewall fails while IPv6 is on", linuxHost(t).
			AddRun([]string{iptablesSavePath}, host.Output{Stdout: checktest.Testdata(t, "linux", "iptables-legacy-save__input_drop.txt")}, nil),
			checks.StatusFail, ""},
		{"an IPv4-only legacy firewall passes when IPv6 is off", linuxHost(t).
			AddFile(disableIPv6Path, []byte("1\n")).
			AddRun([]string{iptablesSavePath}, host.Output{Stdout: checktest.Testdata(t, "linux", "iptables-legacy-save__input_drop.txt")}, nil),
			checks.StatusPass, ""},
		{"an agent without root cannot tell", linuxHost(t).
			AddRun(nftArgv, notRoot, nil).
			AddRun([]string{iptablesSavePath}, host.Output{Stderr: []byte("iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n"), ExitCode: 4}, nil),
			checks.StatusUnknown, "needs root"},
		{"no firewall tools at all cannot tell", linuxHost(t), checks.StatusUnknown, "not installed"},
		{"a timed-out nft falls back to iptables-save", linuxHost(t).
			AddRun(nftArgv, host.Output{}, host.Wrap(host.ErrTimeout, errors.New("run /usr/sbin/nft: context deadline exceeded"))).
			AddRun([]string{iptablesSavePath}, host.Output{Stdout: checktest.Testdata(t, "linux", "iptables-save__ufw_active.txt")}, nil).
			AddRun([]string{ip6tablesSavePath}, host.Output{Stdout: checktest.Testdata(t, "linux", "ip6tables-save__ufw_active.txt")}, nil),
			checks.StatusPass, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			facts, err := Collect(ctx, tc.host)
			if tc.wantInErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantInErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tc.wantInErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(facts)
			if err != nil {
				t.Fatal(err)
			}
			res := Evaluate(checks.EvalInput{OS: "linux", Facts: b, Now: clock.Now()})
			if res.Status != tc.wantStatus {
				t.Errorf("status = %s (%s), want %s; facts %s", res.Status, res.Summary, tc.wantStatus, b)
			}
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "ufw enable") {
				t.Errorf("remediation %q does not say how to turn the firewall on", res.Remediation)
			}
		})
	}
}

func TestCollectWithNothingReadableSaysWhy(t *testing.T) {
	for goos, want := range map[string]string{
		"windows": "no registry value could be read",
		"darwin":  "socketfilterfw is not installed",
		"plan9":   "not checked on plan9",
	} {
		t.Run(goos+" names the missing sources", func(t *testing.T) {
			_, err := Collect(context.Background(), host.NewFake(goos, "amd64"))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error = %v, want it to mention %q", err, want)
			}
		})
	}
}

func TestEvaluateUndecodableFactsIsUnknown(t *testing.T) {
	res := Evaluate(checks.EvalInput{OS: "linux", Facts: json.RawMessage(`{"ipv4_filtered":"yes"}`)})
	if res.Status != checks.StatusUnknown {
		t.Errorf("status = %s", res.Status)
	}
}

func TestEvaluateWindowsWithoutProfilesIsUnknown(t *testing.T) {
	on := true
	tests := []struct {
		name  string
		facts WindowsFacts
	}{
		{"no profile was reported at all", WindowsFacts{}},
		{"the active profile was not reported", WindowsFacts{
			ActiveProfiles: []string{ProfilePublic},
			Profiles:       []WindowsProfile{{Name: ProfileDomain, Enabled: &on, InboundBlocked: &on}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(Facts{Windows: &tc.facts})
			if err != nil {
				t.Fatal(err)
			}
			res := Evaluate(checks.EvalInput{OS: "windows", Facts: b})
			if res.Status != checks.StatusUnknown {
				t.Errorf("status = %s (%s), want unknown", res.Status, res.Summary)
			}
		})
	}
}
