package passwordpolicy

import (
	"math"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The collector fuzz targets put fuzzed bytes in the files and tool
// outputs each OS's collector reads and run Collect and Evaluate. Whatever
// the bytes: a valid status with a reason, and no sub-rule value larger
// than any number the inputs hold (or a documented default) — a value
// made up by an overflow could pass a rule nobody configured.

var digitsRE = regexp.MustCompile(`\d+`)

// largestNumber is the largest decimal number in the inputs (decoded as
// the collectors decode them), at least the largest default a collector
// may fall back to (pam_pwhistory's remember=10).
func largestNumber(inputs ...[]byte) int {
	most := 10
	for _, b := range inputs {
		for _, d := range digitsRE.FindAllString(decodeText(b), -1) {
			n, err := strconv.Atoi(d)
			if err != nil {
				n = math.MaxInt // out of range: anything may come of it
			}
			most = max(most, n)
		}
	}
	return most
}

func checkPolicyOutcome(t *testing.T, h host.Host, inputs ...[]byte) {
	t.Helper()
	b, f, ok := checktest.CollectFacts[Facts](t, h, Collect)
	if !ok {
		return
	}
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	res := Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: DefaultThresholds(), CollectedAt: now, Now: now})
	checktest.CheckResult(t, res, checks.StatusPass, checks.StatusFail, checks.StatusUnknown)
	most := largestNumber(inputs...)
	for name, s := range map[string]Setting{"min_length": f.MinLength, "min_classes": f.MinClasses, "max_age_days": f.MaxAgeDays, "history": f.History, "lockout_threshold": f.LockoutThreshold} {
		if s.Unknown == "" && (s.Value > most || s.Source == "") {
			t.Fatalf("%s = %d from %q, but no input says more than %d", name, s.Value, s.Source, most)
		}
		if name == "min_classes" && (s.Value < 0 || s.Value > 4) {
			t.Fatalf("%d classes", s.Value)
		}
	}
}

func FuzzCollectLinux(f *testing.F) {
	passwd := checktest.Testdata(f, "linux", "passwd__laptop_handwritten.txt")
	stacks := checktest.SeedFiles(f, "linux", "common-password")
	confs := checktest.SeedFiles(f, "linux", "pwquality")
	auths := checktest.SeedFiles(f, "linux", "common-auth")
	defs := checktest.SeedFiles(f, "linux", "login.defs")
	shadows := checktest.SeedFiles(f, "linux", "shadow")
	for i, s := range stacks {
		f.Add(s, confs[i%len(confs)], auths[i%len(auths)], defs[i%len(defs)], shadows[i%len(shadows)])
	}
	f.Add([]byte("password requisite pam_pwquality.so minlen=-9223372036854775808 dcredit=1\n"), confs[0], auths[0], defs[0], shadows[0])
	f.Add([]byte("password requisite pam_pwquality.so\n"), []byte("minlen=8\ndcredit=9223372036854775807\nucredit=9223372036854775807\n"), auths[0], defs[0], shadows[0])
	f.Fuzz(func(t *testing.T, stack, pwquality, auth, loginDefs, shadow []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile(pamDir+"common-password", stack).
			AddFile(pwqualityConf, pwquality).
			AddFile(pamDir+"common-auth", auth).
			AddFile(loginDefsPath, loginDefs).
			AddFile(passwdPath, passwd).
			AddFile(shadowPath, shadow)
		checkPolicyOutcome(t, h, stack, pwquality, auth, loginDefs, shadow)
	})
}

func FuzzCollectWindows(f *testing.F) {
	nets := checktest.SeedFiles(f, "windows", "net-accounts")
	for i, inf := range checktest.SeedFiles(f, "windows", "secpol.inf") {
		f.Add(inf, nets[i%len(nets)])
	}
	f.Fuzz(func(t *testing.T, inf, netAccounts []byte) {
		h := host.NewFake("windows", "amd64").
			AddRegistry(currentVersionKey, "SystemRoot", host.RegistryValue{Type: "REG_SZ", String: `C:\WINDOWS`}, nil).
			AddRun(seceditArgv, host.Output{Stdout: []byte("\r\nThe task has completed successfully.\r\n")}, nil).
			AddFile(`C:\ProgramData\Postern\secpol.inf`, inf).
			AddRun(netArgv, host.Output{Stdout: netAccounts}, nil).
			AddWMI(rsopNamespace, rsopNumeric, nil, notDomain).
			AddWMI(rsopNamespace, rsopBoolean, nil, notDomain)
		checkPolicyOutcome(t, h, inf, netAccounts)
	})
}

func FuzzCollectDarwin(f *testing.F) {
	profile := checktest.Testdata(f, "darwin", "managed-passwordpolicy__profile_handwritten.txt")
	for _, p := range checktest.SeedFiles(f, "darwin", "pwpolicy") {
		f.Add(p, []byte{})
		f.Add(p, profile)
	}
	f.Fuzz(func(t *testing.T, pwpolicy, managed []byte) {
		h := host.NewFake("darwin", "arm64").
			AddRun([]string{pwpolicyPath, "-getaccountpolicies"}, host.Output{Stdout: pwpolicy}, nil)
		if len(managed) > 0 {
			h.AddFile(managedPath, managed)
		}
		checkPolicyOutcome(t, h, pwpolicy, managed)
	})
}
