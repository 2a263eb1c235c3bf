package diskenc

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The targets below feed what a disk tool printed, or a mount table a
// user can add entries to, to each parser. For any input the parser must
// not panic, must not return more entries than the input has lines, and
// must return only states and numbers its callers can rely on; the seeds
// are the recorded samples.

func collectEvalAny(t *testing.T, h host.Host) checks.Result {
	t.Helper()
	return checktest.CollectEval(t, h, Collect, Evaluate, checks.EvalInput{Now: time.Unix(0, 0)})
}

var states = []string{StateEncrypted, StateNotEncrypted, StateInMemory, StateUnknown, StateProtectionOff, StateEncrypting}

func checkPercent(t *testing.T, p *float64) {
	t.Helper()
	if p != nil && (*p < 0 || math.IsNaN(*p) || math.IsInf(*p, 0)) {
		t.Fatalf("percent %v", *p)
	}
}

func FuzzParseLsblk(f *testing.F) {
	checktest.AddSeeds(f, "linux", "lsblk__")
	f.Fuzz(func(t *testing.T, b []byte) {
		nodes, err := parseLsblk(b)
		if err != nil {
			return
		}
		for _, n := range nodes {
			if len(n.below) > maxDepth {
				t.Fatalf("a path %d devices deep", len(n.below))
			}
		}
		if len(nodes) == 0 {
			return
		}
		chain, state, enc, reason := judgeLsblk(nodes)
		if !containsString(states, state) || len(chain) == 0 {
			t.Fatalf("state %q chain %v", state, chain)
		}
		if (state == StateEncrypted) != (enc != "") {
			t.Fatalf("state %s with encryption %q", state, enc)
		}
		if (state == StateNotEncrypted || state == StateUnknown) && reason == "" {
			t.Fatalf("%s without a reason", state)
		}
	})
}

func FuzzCollectLsblk(f *testing.F) {
	checktest.AddSeeds(f, "linux", "lsblk__")
	newArgs := append([]string{lsblkPath}, lsblkArgs...)
	f.Fuzz(func(t *testing.T, b []byte) {
		h := noSysfs("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n", swapsHeader).
			AddRun(newArgs, host.Output{Stdout: b}, nil)
		r := collectEvalAny(t, h)
		checktest.CheckResult(t, r)
		// Without sysfs only lsblk can show a crypt layer (or zram).
		if low := bytes.ToLower(b); r.Status == checks.StatusPass && !bytes.Contains(low, []byte("crypt")) && !bytes.Contains(low, []byte("zram")) {
			t.Fatalf("passes with no crypt device listed: %s", r.Summary)
		}
	})
}

var letterRE = regexp.MustCompile(`^[A-Z]:$`)

func FuzzParseManageBDE(f *testing.F) {
	checktest.AddSeeds(f, "windows", "manage-bde__")
	f.Fuzz(func(t *testing.T, b []byte) {
		vols := parseManageBDE(b)
		if n := strings.Count(decodeConsole(b), "\n") + 1; len(vols) > n {
			t.Fatalf("%d volumes from %d lines", len(vols), n)
		}
		for _, v := range vols {
			if !letterRE.MatchString(v.letter) {
				t.Fatalf("drive %q", v.letter)
			}
			checkPercent(t, v.percent)
			if v.protected != nil && v.rawStatus == "" {
				t.Fatal("a protection status read from no text")
			}
		}
	})
}

func FuzzCollectManageBDE(f *testing.F) {
	checktest.AddSeeds(f, "windows", "manage-bde__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := host.NewFake("windows", "amd64").
			AddRegistry(`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "SystemRoot", host.RegistryValue{Type: "REG_SZ", String: `C:\Windows`}, nil).
			AddRun(manageBDEArgv, host.Output{Stdout: b}, nil)
		checktest.CheckResult(t, collectEvalAny(t, h))
	})
}

func FuzzParseMountinfoAndSwaps(f *testing.F) {
	for _, dir := range []string{"container_overlay", "encrypted_root_plain_swap", "luks_root_on_lvm", "plain_ext4", "zram_swap"} {
		for _, p := range []string{"files/proc/self/mountinfo", "files/proc/swaps"} {
			if b, err := os.ReadFile(filepath.Join(snapshotDir(dir), p)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`36 35 98:0 /mnt1 /mnt/my\040disk rw,noatime master:1 - ext3 /dev/root rw,errors=continue` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms := parseMountinfo(b)
		if len(ms) > checktest.LineCount(b) {
			t.Fatalf("%d mounts from %d lines", len(ms), checktest.LineCount(b))
		}
		for _, m := range ms {
			if m.fsType == "" || m.devID == "" {
				t.Fatalf("mount %+v", m)
			}
		}
		if m, ok := mountOf(ms, "/home/user"); ok && m.mountPoint != "/" && m.mountPoint != "/home" && m.mountPoint != "/home/user" {
			t.Fatalf("/home/user is not on %q", m.mountPoint)
		}
		if sw := parseSwaps(b); len(sw) > checktest.LineCount(b) {
			t.Fatalf("%d swap areas from %d lines", len(sw), checktest.LineCount(b))
		}
		s := string(b)
		if u := unescapeOctal(s); len(u) > len(s) || !strings.Contains(s, `\`) && u != s {
			t.Fatalf("unescaped %q to %q", s, u)
		}
		_ = cryptType(s)
		_ = dmKind(s)
	})
}

func FuzzParseDiskutil(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "diskutil-")
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := parseAPFSList(b); err == nil {
			for _, c := range l.Containers {
				for _, v := range c.Volumes {
					_ = v.hasRole("System")
				}
			}
		}
		if d, err := parseDiskInfo(b); err == nil && d.DeviceIdentifier == "" {
			t.Fatal("no error and no device")
		}
	})
}

func FuzzParseFdesetup(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "fdesetup__")
	f.Fuzz(func(t *testing.T, b []byte) {
		st, ok := parseFdesetup(b)
		if !ok {
			return
		}
		switch st.state {
		case fdeOn, fdeOff, fdeEncrypting, fdeDecrypting:
		default:
			t.Fatalf("state %q", st.state)
		}
		checkPercent(t, st.percent)
	})
}

func FuzzCollectDarwinDiskutil(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, argv := range [][]string{apfsListArgv, infoArgv, fdeArgv} {
			h := macHost(t, "diskutil-apfs-list__filevault_on_handwritten.txt", "diskutil-info__root_handwritten.txt", "fdesetup__on.txt").
				AddRun(argv, host.Output{Stdout: b}, nil)
			checktest.CheckResult(t, collectEvalAny(t, h))
		}
	})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
