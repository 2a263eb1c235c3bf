package firewall

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The targets below feed what a firewall tool printed, or a
// configuration file, to each parser. For any input the parser must not
// panic or loop, must give every input chain a verdict of accept or
// drop, and must quote only lines the input holds; the seeds are the
// recorded samples.

func collectEval(t *testing.T, h host.Host) checks.Result {
	t.Helper()
	return checktest.CollectEval(t, h, Collect, Evaluate, checks.EvalInput{Now: time.Unix(0, 0)})
}

// checkChains asserts every input chain got a verdict and a reason.
func checkChains(t *testing.T, rs *ruleset, maxChains int) {
	t.Helper()
	cs := rs.inputChains()
	if len(cs) > maxChains {
		t.Fatalf("%d input chains from %d lines", len(cs), maxChains)
	}
	for _, c := range cs {
		if c.Verdict != verdictAccept && c.Verdict != verdictDrop {
			t.Fatalf("chain %s verdict %q", c.Name, c.Verdict)
		}
		if c.DecidedBy == "" || c.Policy == "" {
			t.Fatalf("chain %+v", c)
		}
	}
	_, _ = filtered(cs)
}

func FuzzParseIPTablesSave(f *testing.F) {
	checktest.AddSeeds(f, "linux", "iptables-")
	checktest.AddSeeds(f, "linux", "ip6tables-")
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := parseIPTablesSave(b, "ip")
		if err != nil {
			return
		}
		checkChains(t, rs, checktest.LineCount(b))
	})
}

func FuzzParseNFT(f *testing.F) {
	checktest.AddSeeds(f, "linux", "nft__")
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := parseNFT(b)
		if err != nil {
			return
		}
		checkChains(t, rs, len(b))
	})
}

func FuzzCollectLinuxNFT(f *testing.F) {
	checktest.AddSeeds(f, "linux", "nft__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := linuxHost(t).AddRun(nftArgv, host.Output{Stdout: b}, nil)
		r := collectEval(t, h)
		checktest.CheckResult(t, r)
		if _, err := parseNFT(b); err != nil && r.Status == checks.StatusPass {
			t.Fatalf("an unreadable ruleset passes: %s", r.Summary)
		}
	})
}

func FuzzCollectLinuxIPTables(f *testing.F) {
	checktest.AddSeeds(f, "linux", "iptables-")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := linuxHost(t).
			AddRun(nftArgv, host.Output{}, host.ErrNotFound).
			AddRun([]string{iptablesSavePath}, host.Output{Stdout: b}, nil).
			AddRun([]string{ip6tablesSavePath}, host.Output{Stdout: b}, nil)
		checktest.CheckResult(t, collectEval(t, h))
	})
}

func FuzzParsePF(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "pfctl")
	f.Fuzz(func(t *testing.T, b []byte) {
		if enabled, ok := parsePFInfo(b); enabled && !ok {
			t.Fatal("enabled without ok")
		}
		if line := pfBlockAllIn(b); line != "" && (!strings.HasPrefix(line, "block") || !bytes.Contains(b, []byte(line))) {
			t.Fatalf("rule %q is not a block line of the input", line)
		}
	})
}

func FuzzParseSocketFilterFW(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "socketfilterfw__")
	f.Fuzz(func(t *testing.T, b []byte) {
		sf := parseSocketFilterFW(b)
		if sf.state != nil && (*sf.state < 0 || *sf.state > 9) {
			t.Fatalf("state %d", *sf.state)
		}
	})
}

func FuzzCollectDarwinSocketFilterFW(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "socketfilterfw__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := macHost(t, "").AddRun(sfArgv, host.Output{Stdout: b}, nil)
		checktest.CheckResult(t, collectEval(t, h))
	})
}

func FuzzParseUFW(f *testing.F) {
	checktest.AddSeeds(f, "linux", "ufw")
	checktest.AddSeeds(f, "linux", "firewall-cmd__")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte) (bool, bool){parseUFWConf, parseUFWStatus, parseFirewalldState} {
			if v, ok := parse(b); v && !ok {
				t.Fatal("true without ok")
			}
		}
	})
}
