package wifienc

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The targets below feed what a tool printed (or a user could make it
// print) to each parser. For any input the parser must not panic, must
// not return more entries than the input has lines, and must return only
// values its callers can rely on; the seeds are the recorded samples.

func checkSecurity(t *testing.T, what, sec string, ok bool) {
	t.Helper()
	if ok && !slices.Contains(knownSecurity, sec) {
		t.Fatalf("%s: security %q is not one of %v", what, sec, knownSecurity)
	}
	if !ok && sec != "" {
		t.Fatalf("%s: security %q returned with ok false", what, sec)
	}
}

func FuzzParseNetshWlanInterfaces(f *testing.F) {
	checktest.AddSeeds(f, "windows", "netsh__")
	f.Fuzz(func(t *testing.T, b []byte) {
		ifaces := parseNetshWlanInterfaces(b)
		if n := strings.Count(decodeConsole(b), "\n") + 1; len(ifaces) > n {
			t.Fatalf("%d interfaces from %d lines", len(ifaces), n)
		}
		for _, ni := range ifaces {
			if ni.GUID != normGUID(ni.GUID) || !guidRE.MatchString(ni.GUID) {
				t.Fatalf("GUID %q is not a normalised GUID", ni.GUID)
			}
			sec, _, ok := netshSecurity(ni.Auth, ni.Cipher)
			checkSecurity(t, "netsh", sec, ok)
		}
	})
}

func FuzzCollectWindowsNetsh(f *testing.F) {
	checktest.AddSeeds(f, "windows", "netsh__")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _ := collectAndEvaluate(t, winHost(t, stdout(b), nil, true, winRoutesWiFi), nil)
		checktest.CheckResult(t, r)
	})
}

func FuzzParseBusctl(f *testing.F) {
	checktest.AddSeeds(f, "linux", "busctl__")
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := parseBusctl(b)
		if err == nil && len(vals) == 0 {
			t.Fatal("no error and no value")
		}
		if _, err := busctlObjectPath(b); err == nil && vals[0].Type != "o" {
			t.Fatalf("object path from type %q", vals[0].Type)
		}
		if us, err := busctlUint32s(b, 3); err == nil {
			if len(us) != 3 {
				t.Fatalf("%d values, want 3", len(us))
			}
			sec, _, detail := nmSecurity(us[0], us[1], us[2])
			checkSecurity(t, "nm", sec, true)
			if detail == "" {
				t.Fatal("no detail")
			}
		}
		if ss, err := busctlStrings(b, "so"); err == nil && len(ss) != 2 {
			t.Fatalf("%d strings, want 2", len(ss))
		}
		if s, ok, err := busctlDictString(b, "Security"); err == nil {
			if !ok && s != "" {
				t.Fatalf("absent key gave %q", s)
			}
			sec, _, ok := iwdDiagnosticSecurity(s)
			checkSecurity(t, "iwd", sec, ok)
		}
	})
}

func FuzzParseSystemProfilerAirPort(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "system_profiler__")
	f.Fuzz(func(t *testing.T, b []byte) {
		ifs, err := parseSystemProfilerAirPort(b)
		if err != nil {
			return
		}
		for _, i := range ifs {
			if strings.HasPrefix(i.Name, "awdl") || strings.HasPrefix(i.Name, "llw") {
				t.Fatalf("peer-to-peer interface %q kept", i.Name)
			}
			if i.Current != nil {
				sec, _, ok := airportSecurity(i.Current.Security)
				checkSecurity(t, "airport", sec, ok)
			}
		}
	})
}

func FuzzCollectDarwinSystemProfiler(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "system_profiler__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := mac(t, "system_profiler__wpa2_personal.txt", "route__get_v4_en0.txt").
			AddRun(argvSystemProfiler, stdout(b), nil)
		checktest.CheckResult(t, checktest.CollectEval(t, h, Collect, Evaluate, checks.EvalInput{Now: time.Unix(0, 0)}))
	})
}

func FuzzParseSCUtilAndRoute(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "scutil__")
	checktest.AddSeeds(f, "darwin", "route__")
	f.Fuzz(func(t *testing.T, b []byte) {
		svcs := parseSCUtilNCList(b)
		if len(svcs) > checktest.LineCount(b) {
			t.Fatalf("%d services from %d lines", len(svcs), checktest.LineCount(b))
		}
		for _, s := range svcs {
			if len(s.ID) != 36 {
				t.Fatalf("service ID %q is not a UUID", s.ID)
			}
		}
		if i := parseSCUtilNCStatusInterface(b); strings.TrimSpace(i) != i {
			t.Fatalf("interface %q not trimmed", i)
		}
		if i, err := parseBSDRouteGet(b); err == nil && (i == "" || strings.TrimSpace(i) != i) {
			t.Fatalf("interface %q", i)
		}
	})
}

func FuzzParseWPACLIStatus(f *testing.F) {
	checktest.AddSeeds(f, "linux", "wpa_cli__")
	f.Fuzz(func(t *testing.T, b []byte) {
		st := parseWPACLIStatus(b)
		sec, _, ok := st.security()
		checkSecurity(t, "wpa_cli", sec, ok)
	})
}

func FuzzParseXfrmPolicies(f *testing.F) {
	checktest.AddSeeds(f, "linux", "ip__xfrm_policy_")
	f.Fuzz(func(t *testing.T, b []byte) {
		pols, err := parseXfrmPolicies(b)
		if err != nil {
			return
		}
		if len(pols) > checktest.LineCount(b) {
			t.Fatalf("%d policies from %d lines", len(pols), checktest.LineCount(b))
		}
		for _, p := range pols {
			if !p.src.IsValid() || !p.dst.IsValid() {
				t.Fatalf("policy %s without a selector", p.String())
			}
		}
		for _, probe := range []string{probeIPv4, probeIPv6} {
			c := xfrmCovers(pols, netipAddr(probe), netipAddr(probe))
			if c.covered && (c.policy == nil || c.policy.block || c.policy.esp() == nil || c.policy.dst.Bits() != 0) {
				t.Fatalf("covered by %v", c.policy)
			}
			if !c.covered && c.policy != nil && c.why == "" {
				t.Fatal("not covered without a reason")
			}
		}
	})
}

func FuzzParseProcRoute(f *testing.F) {
	checktest.AddSeeds(f, "linux", "proc_net_route__")
	checktest.AddSeeds(f, "linux", "proc_net_ipv6_route__")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte) ([]kernelRoute, error){parseProcRoute, parseProcIPv6Route} {
			routes, err := parse(b)
			if err != nil {
				continue
			}
			if len(routes) > checktest.LineCount(b) {
				t.Fatalf("%d routes from %d lines", len(routes), checktest.LineCount(b))
			}
			for _, r := range routes {
				if !r.prefix.IsValid() || r.dev == "" {
					t.Fatalf("route %+v", r)
				}
			}
			for _, probe := range []string{probeIPv4, probeIPv6} {
				if dev, ok := lookupRoute(routes, netipAddr(probe)); ok && dev == "" {
					t.Fatal("route without a device")
				}
			}
		}
	})
}

func FuzzParseIPRouteGet(f *testing.F) {
	checktest.AddSeeds(f, "linux", "ip__route_get_")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseIPRouteGet(b)
		if err == nil && r.dev == "" {
			t.Fatal("no error and no device")
		}
	})
}

func FuzzParseTuntapShow(f *testing.F) {
	checktest.AddSeeds(f, "linux", "ip__tuntap_show_")
	f.Fuzz(func(t *testing.T, b []byte) {
		procs := parseTuntapShow(b)
		if len(procs) > checktest.LineCount(b) {
			t.Fatalf("%d devices from %d lines", len(procs), checktest.LineCount(b))
		}
		for dev, ps := range procs {
			if dev == "" {
				t.Fatal("a device without a name")
			}
			for _, p := range ps {
				if p == "" || strings.ContainsAny(p, " \t()") {
					t.Fatalf("process name %q", p)
				}
			}
			if kind, proc, ok := tunKindByProcesses(ps); ok && kind != "" && !slices.Contains(ps, proc) {
				t.Fatalf("kind %s from %q, not a holder", kind, proc)
			}
		}
	})
}

func netipAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
