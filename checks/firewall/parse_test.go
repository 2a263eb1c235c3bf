package firewall

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func TestParseNFT(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		wantV4     bool
		wantV6     bool
		wantChains []Chain
	}{
		{"a hand-written inet table with policy drop filters both families", "nft__nftables_drop_policy.txt", true, true,
			[]Chain{{Family: "inet", Table: "filter", Name: "input", Policy: "drop", Verdict: "drop", DecidedBy: "policy drop"}}},
		{"a final reject rule filters even with policy accept", "nft__nftables_final_reject.txt", true, true,
			[]Chain{{Family: "inet", Table: "filter", Name: "input", Policy: "accept", Verdict: "drop", DecidedBy: "rule in input: drop"}}},
		{"Debian's default accept-all table does not filter", "nft__nftables_accept.txt", false, false,
			[]Chain{{Family: "inet", Table: "filter", Name: "input", Policy: "accept", Verdict: "accept", DecidedBy: "policy accept"}}},
		{"ufw enabled filters both families through iptables-nft", "nft__ufw_active.txt", true, true, []Chain{
			{Family: "ip", Table: "filter", Name: "INPUT", Policy: "drop", Verdict: "drop", DecidedBy: "policy drop"},
			{Family: "ip6", Table: "filter", Name: "INPUT", Policy: "drop", Verdict: "drop", DecidedBy: "policy drop"},
		}},
		{"ufw disabled leaves accepting chains behind", "nft__ufw_disabled.txt", false, false, []Chain{
			{Family: "ip", Table: "filter", Name: "INPUT", Policy: "accept", Verdict: "accept", DecidedBy: "policy accept"},
			{Family: "ip6", Table: "filter", Name: "INPUT", Policy: "accept", Verdict: "accept", DecidedBy: "policy accept"},
		}},
		{"firewalld's public zone rejects through its zone chain", "nft__firewalld_public.txt", true, true, []Chain{
			{Family: "inet", Table: "firewalld", Name: "filter_INPUT", Policy: "accept", Verdict: "drop", DecidedBy: "rule in filter_IN_public: drop"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := parseNFT(checktest.Testdata(t, "linux", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			chains := rs.inputChains()
			if diff := cmp.Diff(tc.wantChains, chains); diff != "" {
				t.Errorf("input chains (-want +got):\n%s", diff)
			}
			v4, v6 := filtered(chains)
			if v4 != tc.wantV4 || v6 != tc.wantV6 {
				t.Errorf("filtered = %t, %t; want %t, %t", v4, v6, tc.wantV4, tc.wantV6)
			}
		})
	}
}

func TestParseNFTRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "nft: command not found", `{"other": []}`,
		// A policy that is neither accept nor drop (FuzzParseIPTablesSave
		// found the iptables-save form, taken as the chain's verdict).
		`{"nftables": [{"chain": {"family": "inet", "table": "filter", "name": "input", "type": "filter", "hook": "input", "policy": "00"}}]}`} {
		if _, err := parseNFT([]byte(in)); err == nil {
			t.Errorf("parseNFT(%q) accepted it", in)
		}
	}
}

func TestParseIPTablesSave(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		family string
		want   []Chain
	}{
		{"ufw enabled drops by policy", "iptables-save__ufw_active.txt", "ip",
			[]Chain{{Family: "ip", Table: "filter", Name: "INPUT", Policy: "drop", Verdict: "drop", DecidedBy: "policy drop"}}},
		{"ufw enabled drops IPv6 by policy", "ip6tables-save__ufw_active.txt", "ip6",
			[]Chain{{Family: "ip6", Table: "filter", Name: "INPUT", Policy: "drop", Verdict: "drop", DecidedBy: "policy drop"}}},
		{"ufw disabled accepts", "iptables-save__ufw_disabled.txt", "ip",
			[]Chain{{Family: "ip", Table: "filter", Name: "INPUT", Policy: "accept", Verdict: "accept", DecidedBy: "policy accept"}}},
		{"a legacy INPUT DROP policy drops", "iptables-legacy-save__input_drop.txt", "ip",
			[]Chain{{Family: "ip", Table: "filter", Name: "INPUT", Policy: "drop", Verdict: "drop", DecidedBy: "policy drop"}}},
		{"no tables means no input chain", "iptables-save__no_tables.txt", "ip", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := parseIPTablesSave(checktest.Testdata(t, "linux", tc.file), tc.family)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, rs.inputChains()); diff != "" {
				t.Errorf("input chains (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseIPTablesSaveRejectsAnUnknownPolicy(t *testing.T) {
	// Found by FuzzParseIPTablesSave: the word was kept as the verdict.
	if _, err := parseIPTablesSave([]byte("*filter\n:INPUT 00\nCOMMIT\n"), "ip"); err == nil {
		t.Error("no error")
	}
}

func TestIPTablesRules(t *testing.T) {
	rs, err := parseIPTablesSave([]byte(`*filter
:INPUT ACCEPT [0:0]
:allow-all - [0:0]
:log-drop - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m comment --comment "send \"everything\" on" -j log-drop
-A log-drop -j LOG --log-prefix "[drop] "
-A log-drop -j REJECT --reject-with icmp-port-unreachable
COMMIT
`), "ip")
	if err != nil {
		t.Fatal(err)
	}
	want := []Chain{{Family: "ip", Table: "filter", Name: "INPUT", Policy: "accept", Verdict: "drop", DecidedBy: "rule in log-drop: drop"}}
	if diff := cmp.Diff(want, rs.inputChains()); diff != "" {
		t.Errorf("a jump to a logging reject chain (-want +got):\n%s", diff)
	}
}

func TestChainWalkVisitsEachChainOnce(t *testing.T) {
	// Each of 40 chains jumps twice to the next and the last rejects: a
	// walk without memory took 2^32 steps (minutes) on this 2 KB ruleset.
	var b strings.Builder
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j c0\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "-A c%d -j c%d\n-A c%d -j c%d\n", i, i+1, i, i+1)
	}
	b.WriteString("-A c40 -j REJECT\n-A loop -j loop\n-A loop -j DROP\nCOMMIT\n")
	rs, err := parseIPTablesSave([]byte(b.String()), "ip")
	if err != nil {
		t.Fatal(err)
	}
	// The depth limit (32) stops the walk before c40's reject.
	want := []Chain{{Family: "ip", Table: "filter", Name: "INPUT", Policy: "accept", Verdict: "accept", DecidedBy: "policy accept"}}
	if diff := cmp.Diff(want, rs.inputChains()); diff != "" {
		t.Errorf("input chains (-want +got):\n%s", diff)
	}
	t.Run("a chain that jumps to itself goes on to its next rule", func(t *testing.T) {
		rs, err := parseIPTablesSave([]byte("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j loop\n-A loop -j loop\n-A loop -j loop\n-A loop -j DROP\nCOMMIT\n"), "ip")
		if err != nil {
			t.Fatal(err)
		}
		want := []Chain{{Family: "ip", Table: "filter", Name: "INPUT", Policy: "accept", Verdict: "drop", DecidedBy: "rule in loop: drop"}}
		if diff := cmp.Diff(want, rs.inputChains()); diff != "" {
			t.Errorf("input chains (-want +got):\n%s", diff)
		}
	})
}

func TestFrontEndParsers(t *testing.T) {
	tests := []struct {
		name      string
		parse     func([]byte) (bool, bool)
		file      string
		want, wok bool
	}{
		{"ufw.conf enabled", parseUFWConf, "ufw.conf__enabled.txt", true, true},
		{"ufw.conf disabled", parseUFWConf, "ufw.conf__disabled.txt", false, true},
		{"ufw status active", parseUFWStatus, "ufw__active.txt", true, true},
		{"ufw status inactive", parseUFWStatus, "ufw__inactive.txt", false, true},
		{"firewalld running", parseFirewalldState, "firewall-cmd__running.txt", true, true},
		{"firewalld not running", parseFirewalldState, "firewall-cmd__not_running.txt", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.parse(checktest.Testdata(t, "linux", tc.file))
			if got != tc.want || ok != tc.wok {
				t.Errorf("got %t, %t; want %t, %t", got, ok, tc.want, tc.wok)
			}
		})
	}
}
