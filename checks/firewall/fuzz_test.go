package firewall

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// The targets below feed what a firewall tool printed, or a
// configuration file, to each parser. For any input the parser must not
// panic or loop, must give every input chain a verdict of accept or
// drop, and must quote only lines the input holds; the seeds are the
// recorded samples.

// addSeeds adds every testdata/<goos>/<prefix>* file as a seed.
func addSeeds(f *testing.F, goos, prefix string) {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", goos, prefix+"*"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds for testdata/%s/%s*: %v", goos, prefix, err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func lineCount(b []byte) int { return bytes.Count(b, []byte("\n")) + 1 }

// checkResult asserts what holds for any evaluation: a known status, a
// summary, and a reason after "could not be determined" for unknown.
func checkResult(t *testing.T, r checks.Result) {
	t.Helper()
	switch r.Status {
	case checks.StatusPass, checks.StatusFail, checks.StatusUnknown, checks.StatusNotApplicable:
	default:
		t.Fatalf("status %q is not a status", r.Status)
	}
	if strings.TrimSpace(r.Summary) == "" {
		t.Fatalf("%s with an empty summary", r.Status)
	}
	if r.Status == checks.StatusUnknown && strings.TrimSpace(strings.TrimPrefix(r.Summary, "could not be determined:")) == "" {
		t.Fatalf("unknown without a reason: %q", r.Summary)
	}
}

func collectEval(t *testing.T, h host.Host) checks.Result {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		return checks.Unknown(err.Error())
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	return Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Now: time.Unix(0, 0)})
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
	addSeeds(f, "linux", "iptables-")
	addSeeds(f, "linux", "ip6tables-")
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := parseIPTablesSave(b, "ip")
		if err != nil {
			return
		}
		checkChains(t, rs, lineCount(b))
	})
}

func FuzzParseNFT(f *testing.F) {
	addSeeds(f, "linux", "nft__")
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := parseNFT(b)
		if err != nil {
			return
		}
		checkChains(t, rs, len(b))
	})
}

func FuzzCollectLinuxNFT(f *testing.F) {
	addSeeds(f, "linux", "nft__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := linuxHost(t).AddRun(nftArgv, host.Output{Stdout: b}, nil)
		r := collectEval(t, h)
		checkResult(t, r)
		if _, err := parseNFT(b); err != nil && r.Status == checks.StatusPass {
			t.Fatalf("an unreadable ruleset passes: %s", r.Summary)
		}
	})
}

func FuzzCollectLinuxIPTables(f *testing.F) {
	addSeeds(f, "linux", "iptables-")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := linuxHost(t).
			AddRun(nftArgv, host.Output{}, host.ErrNotFound).
			AddRun([]string{iptablesSavePath}, host.Output{Stdout: b}, nil).
			AddRun([]string{ip6tablesSavePath}, host.Output{Stdout: b}, nil)
		checkResult(t, collectEval(t, h))
	})
}

func FuzzParsePF(f *testing.F) {
	addSeeds(f, "darwin", "pfctl")
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
	addSeeds(f, "darwin", "socketfilterfw__")
	f.Fuzz(func(t *testing.T, b []byte) {
		sf := parseSocketFilterFW(b)
		if sf.state != nil && (*sf.state < 0 || *sf.state > 9) {
			t.Fatalf("state %d", *sf.state)
		}
	})
}

func FuzzCollectDarwinSocketFilterFW(f *testing.F) {
	addSeeds(f, "darwin", "socketfilterfw__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := macHost(t, "").AddRun(sfArgv, host.Output{Stdout: b}, nil)
		checkResult(t, collectEval(t, h))
	})
}

func FuzzParseUFW(f *testing.F) {
	addSeeds(f, "linux", "ufw")
	addSeeds(f, "linux", "firewall-cmd__")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte) (bool, bool){parseUFWConf, parseUFWStatus, parseFirewalldState} {
			if v, ok := parse(b); v && !ok {
				t.Fatal("true without ok")
			}
		}
	})
}
