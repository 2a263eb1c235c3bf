package diskenc

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
	"github.com/postern-dev/postern/internal/clock"
)

// noSysfs is a Linux host whose /proc can be read but whose sysfs
// cannot: nothing under /sys/class/block answers.
func noSysfs(mountinfo, swaps string) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddFile(mountinfoPath, []byte(mountinfo)).
		AddFile(swapsPath, []byte(swaps))
}

func TestLsblkFallback(t *testing.T) {
	debianLUKS := "26 1 254:2 / / rw,relatime shared:1 - ext4 /dev/mapper/vg--1-lv--root rw\n" +
		"31 26 254:3 / /home rw,relatime shared:2 - ext4 /dev/mapper/vg--1-lv--home rw\n"
	debianSwaps := swapsHeader + swapLine("/dev/dm-1", "partition", 1003516)
	plainRoot := "27 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n" +
		"31 27 252:0 / /home rw,relatime - ext4 /dev/mapper/vdc-crypt rw\n"
	plainSwaps := swapsHeader + swapLine("/dev/vda5", "partition", 1046524)
	newArgs := append([]string{lsblkPath}, lsblkArgs...)
	oldArgs := append([]string{lsblkPath}, lsblkOldArgs...)
	tests := []struct {
		name       string
		host       *host.Fake
		wantStatus checks.Status
		wantStates map[string]string
		wantInSum  string
	}{
		{"LUKS under LVM seen by lsblk passes, swap included",
			noSysfs(debianLUKS, debianSwaps).AddRun(newArgs, host.Output{Stdout: checktest.Testdata(t, "linux", "lsblk__luks_lvm_handwritten.txt")}, nil),
			checks.StatusPass, map[string]string{"root": StateEncrypted, "home": StateEncrypted, "swap": StateEncrypted}, "encrypted"},
		{"this machine's real virtio disk without dm-crypt fails",
			noSysfs("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n", swapsHeader).
				AddRun(newArgs, host.Output{Stdout: checktest.Testdata(t, "linux", "lsblk__virtio_ext4.txt")}, nil),
			checks.StatusFail, map[string]string{"root": StateNotEncrypted}, "root (/)"},
		{"an old lsblk without MOUNTPOINTS is asked again and a plain swap fails",
			noSysfs(plainRoot, plainSwaps).
				AddRun(newArgs, host.Output{Stderr: checktest.Testdata(t, "linux", "lsblk__old_unknown_column_stderr_handwritten.txt"), ExitCode: 1}, nil).
				AddRun(oldArgs, host.Output{Stdout: checktest.Testdata(t, "linux", "lsblk__old_mountpoint_plain_swap_handwritten.txt")}, nil),
			checks.StatusFail, map[string]string{"root": StateNotEncrypted, "home": StateEncrypted, "swap": StateNotEncrypted}, "swap (/dev/vda5)"},
		{"no sysfs and no lsblk cannot tell",
			noSysfs("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n", swapsHeader),
			checks.StatusUnknown, map[string]string{"root": StateUnknown}, "lsblk is not installed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := collectLinux(context.Background(), tc.host)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, v := range f.Volumes {
				got[v.Role] = v.State
			}
			if diff := cmp.Diff(tc.wantStates, got); diff != "" {
				t.Errorf("volume states (-want +got):\n%s", diff)
			}
			b, _ := json.Marshal(f)
			res := Evaluate(checks.EvalInput{OS: "linux", Facts: b, Now: clock.Now()})
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("result = %s %q, want %s mentioning %q", res.Status, res.Summary, tc.wantStatus, tc.wantInSum)
			}
		})
	}
}

func TestParseLsblkChains(t *testing.T) {
	nodes, err := parseLsblk(checktest.Testdata(t, "linux", "lsblk__luks_lvm_handwritten.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var root []lsblkNode
	for _, n := range nodes {
		if n.dev.mountedAt("/") {
			root = append(root, n)
		}
	}
	chain, state, enc, _ := judgeLsblk(root)
	want := []Device{{Name: "vg--1-lv--root", Kind: "lvm"}, {Name: "sda2_crypt", Kind: "crypt", Encryption: "dm-crypt"}}
	if diff := cmp.Diff(want, chain); diff != "" || state != StateEncrypted || enc != "dm-crypt" {
		t.Errorf("root: state %s, encryption %q, chain (-want +got):\n%s", state, enc, diff)
	}
	for _, in := range []string{"", "lsblk: unknown column", `{"other": 1}`} {
		if _, err := parseLsblk([]byte(in)); err == nil {
			t.Errorf("parseLsblk(%q) accepted it", in)
		}
	}
}
