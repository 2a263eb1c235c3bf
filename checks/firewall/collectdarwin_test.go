package firewall

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var sfArgv = []string{socketFilterPath, "--getglobalstate", "--getblockall", "--getstealthmode"}

func macHost(t *testing.T, socketfilterfw string) *host.Fake {
	h := host.NewFake("darwin", "arm64").
		AddRun([]string{pfctlPath, "-s", "info"}, host.Output{Stderr: checktest.Testdata(t, "darwin", "pfctl__permission_denied_stderr_handwritten.txt"), ExitCode: 1}, nil)
	if socketfilterfw != "" {
		h.AddRun(sfArgv, host.Output{Stdout: checktest.Testdata(t, "darwin", socketfilterfw)}, nil)
	}
	return h
}

func TestCollectDarwin(t *testing.T) {
	pfOn := func(h *host.Fake) *host.Fake {
		return h.AddRun([]string{pfctlPath, "-s", "info"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "pfctl-info__enabled_handwritten.txt"), Stderr: checktest.Testdata(t, "darwin", "pfctl-info__altq_stderr.txt")}, nil).
			AddRun([]string{pfctlPath, "-s", "rules"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "pfctl-rules__block_in_handwritten.txt"), Stderr: checktest.Testdata(t, "darwin", "pfctl-info__altq_stderr.txt")}, nil)
	}
	tests := []struct {
		name       string
		host       *host.Fake
		wantStatus checks.Status
		wantInSum  string
	}{
		{"the Application Firewall on passes", macHost(t, "socketfilterfw__on.txt"), checks.StatusPass, "is on (socketfilterfw"},
		{"block all (state 2) passes", macHost(t, "socketfilterfw__block_all_state2.txt"), checks.StatusPass, "blocking all incoming"},
		{"a real state 2 with block all disabled is on, not blocking all",
			macHost(t, "socketfilterfw__state2_enabled_kolide.txt"), checks.StatusPass, "Application Firewall is on (socketfilterfw"},
		{"the Application Firewall off fails", macHost(t, "socketfilterfw__off.txt"), checks.StatusFail, "is off"},
		{"a managed profile enabling the firewall wins over socketfilterfw",
			macHost(t, "socketfilterfw__off.txt").AddFile(managedFWPath, checktest.Testdata(t, "darwin", "com.apple.security.firewall.plist__enabled_handwritten.txt")),
			checks.StatusPass, "com.apple.security.firewall.plist"},
		{"the alf plist answers when socketfilterfw is missing (macOS 14 and earlier)",
			macHost(t, "").AddFile(alfPlistPath, checktest.Testdata(t, "darwin", "com.apple.alf.plist__globalstate0_handwritten.txt")),
			checks.StatusFail, "com.apple.alf.plist"},
		{"pf blocking inbound passes with the Application Firewall off", pfOn(macHost(t, "socketfilterfw__off.txt")), checks.StatusPass, "block drop in all"},
		{"pf enabled with macOS's real default ruleset (anchors only) does not count",
			macHost(t, "socketfilterfw__off.txt").
				AddRun([]string{pfctlPath, "-s", "info"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "pfctl-info__enabled_handwritten.txt"), Stderr: checktest.Testdata(t, "darwin", "pfctl-info__altq_stderr.txt")}, nil).
				AddRun([]string{pfctlPath, "-s", "rules"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "pfctl-rules__macos15_default_sshuttle975.txt"), Stderr: checktest.Testdata(t, "darwin", "pfctl-info__altq_stderr.txt")}, nil),
			checks.StatusFail, "pf does not block inbound traffic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := collectAndEvaluate(t, "darwin", tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("result = %s %q, want %s mentioning %q; evidence %v", res.Status, res.Summary, tc.wantStatus, tc.wantInSum, res.Evidence)
			}
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "System Settings") {
				t.Errorf("remediation %q is not for macOS", res.Remediation)
			}
		})
	}
	t.Run("no socketfilterfw, no plist (macOS 15) and pf unreadable says why", func(t *testing.T) {
		_, err := Collect(t.Context(), macHost(t, ""))
		if err == nil || !strings.Contains(err.Error(), "socketfilterfw is not installed") || !strings.Contains(err.Error(), "needs root") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestParseSocketFilterFW(t *testing.T) {
	i := func(n int) *int { return &n }
	tests := []struct {
		name string
		in   string
		want socketFilter
	}{
		{"current wording", "socketfilterfw__on.txt", socketFilter{state: i(1), blockAll: boolp(false), stealth: boolp(true)}},
		{"state 2 with older stealth wording", "socketfilterfw__block_all_state2.txt", socketFilter{state: i(2), blockAll: boolp(true), stealth: boolp(true)}},
		{"real capture with allow-signed and logging lines", "socketfilterfw__state2_enabled_kolide.txt", socketFilter{state: i(2), blockAll: boolp(false), stealth: boolp(true)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := parseSocketFilterFW(checktest.Testdata(t, "darwin", tc.in))
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(socketFilter{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("old Block all ENABLED! wording", func(t *testing.T) {
		got := parseSocketFilterFW([]byte("Block all ENABLED! \r\n"))
		if got.blockAll == nil || !*got.blockAll || got.state != nil {
			t.Errorf("got %+v", got)
		}
	})
}

func TestPFBlockAllIn(t *testing.T) {
	for rules, want := range map[string]bool{
		"block drop in all\n":                                 true,
		"block return in log quick all\n":                     true,
		"block drop all\n":                                    true,
		"block drop out all\n":                                false,
		"block drop in on en0 all\n":                          false,
		"block drop in proto tcp from any to any port = 23\n": false,
		"pass in all flags S/SA keep state\n":                 false,
		"block drop in from any to any\n":                     true,
		// Real: the Application Firewall's stealth-mode anchor rule
		// (TheNewNormal/corectl issue #105) blocks ICMP echo only.
		"block drop in inet proto icmp all icmp-type echoreq\n": false,
	} {
		if got := pfBlockAllIn([]byte(rules)) != ""; got != want {
			t.Errorf("pfBlockAllIn(%q) = %t, want %t", rules, got, want)
		}
	}
}
