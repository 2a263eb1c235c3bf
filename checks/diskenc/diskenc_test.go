package diskenc

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
)

func TestCollectFromSnapshots(t *testing.T) {
	tests := []struct {
		name       string
		snapshot   string
		wantStatus checks.Status
		wantStates map[string]string // role -> state
		wantInSum  string
	}{
		{"a LUKS root on LVM passes, swap included", "luks_root_on_lvm", checks.StatusPass,
			map[string]string{"root": StateEncrypted, "swap": StateEncrypted}, "encrypted"},
		{"a plain ext4 install fails", "plain_ext4", checks.StatusFail,
			map[string]string{"root": StateNotEncrypted, "home": StateNotEncrypted, "swap": StateNotEncrypted}, "root (/)"},
		{"an encrypted root with a plain swap partition fails", "encrypted_root_plain_swap", checks.StatusFail,
			map[string]string{"root": StateEncrypted, "home": StateEncrypted, "swap": StateNotEncrypted}, "swap (/dev/nvme0n1p4)"},
		{"swap on zram passes", "zram_swap", checks.StatusPass,
			map[string]string{"root": StateEncrypted, "swap": StateInMemory}, "encrypted"},
		{"a container's overlay root is unknown", "container_overlay", checks.StatusUnknown,
			map[string]string{"root": StateUnknown}, "overlay"},
		{"a recorded virtio disk without dm-crypt fails", "virtio_ext4_recorded", checks.StatusFail,
			map[string]string{"root": StateNotEncrypted}, "root (/)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := host.OpenSnapshot(snapshotDir(tc.snapshot))
			if err != nil {
				t.Fatal(err)
			}
			facts, err := Collect(context.Background(), h)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, v := range facts.(*Facts).Volumes {
				got[v.Role] = v.State
			}
			if diff := cmp.Diff(tc.wantStates, got); diff != "" {
				t.Errorf("volume states (-want +got):\n%s", diff)
			}
			b, _ := json.Marshal(facts)
			res := Evaluate(checks.EvalInput{OS: "linux", Facts: b, Now: clock.Now()})
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("result = %s %q, want %s mentioning %q", res.Status, res.Summary, tc.wantStatus, tc.wantInSum)
			}
			if res.Status == checks.StatusFail && res.Remediation == "" {
				t.Error("a failure has no remediation")
			}
		})
	}
}

func TestLUKSChainIsDescribed(t *testing.T) {
	f, err := collectLinux(context.Background(), fixtures["luks_root_on_lvm"].fake())
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{
		{Name: "dm-1", Kind: "lvm", DMName: "vgubuntu-root"},
		{Name: "dm-0", Kind: "crypt", DMName: "nvme0n1p3_crypt", Encryption: "LUKS2"},
	}
	if diff := cmp.Diff(want, f.Volumes[0].Chain); diff != "" {
		t.Errorf("root chain (-want +got):\n%s", diff)
	}
	if f.Volumes[0].Encryption != "LUKS2" {
		t.Errorf("encryption = %q", f.Volumes[0].Encryption)
	}
}

func TestParsers(t *testing.T) {
	t.Run("mountinfo escapes are undone", func(t *testing.T) {
		ms := parseMountinfo([]byte(`40 1 8:1 / /mnt/my\040disk rw - ext4 /dev/sda1 rw` + "\n"))
		if len(ms) != 1 || ms[0].mountPoint != "/mnt/my disk" {
			t.Errorf("got %+v", ms)
		}
	})
	t.Run("optional fields before the separator are skipped", func(t *testing.T) {
		ms := parseMountinfo([]byte("26 1 252:1 / / rw,relatime shared:1 master:2 - ext4 /dev/mapper/x rw\n"))
		if len(ms) != 1 || ms[0].fsType != "ext4" || ms[0].source != "/dev/mapper/x" {
			t.Errorf("got %+v", ms)
		}
	})
	t.Run("a swap file is found on its mount", func(t *testing.T) {
		ms := []mount{{mountPoint: "/"}, {mountPoint: "/var"}, {mountPoint: "/variant"}}
		m, ok := mountOf(ms, "/var/swapfile")
		if !ok || m.mountPoint != "/var" {
			t.Errorf("got %+v", m)
		}
	})
	for uuid, want := range map[string]string{
		luksUUID:                  "LUKS2",
		"CRYPT-PLAIN-cryptswap1":  "PLAIN",
		"CRYPT-LUKS1-abc-name\n":  "LUKS1",
		lvmRoot:                   "",
		"mpath-3600508b400105e21": "",
	} {
		if got := cryptType(uuid); got != want {
			t.Errorf("cryptType(%q) = %q, want %q", uuid, got, want)
		}
	}
}

func TestSwapFileOnEncryptedRoot(t *testing.T) {
	fx := fixtures["zram_swap"]
	fx.swaps = swapsHeader + swapLine("/swap/swapfile", "file", 4194300)
	f, err := collectLinux(context.Background(), fx.fake())
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Volumes[1]; got.Role != "swap" || got.State != StateEncrypted || got.Source != "/swap/swapfile" {
		t.Errorf("swap file volume = %+v", got)
	}
}

func TestNothingReadableSaysWhy(t *testing.T) {
	for goos, want := range map[string]string{
		"windows": "manage-bde.exe is not installed",
		"darwin":  "fdesetup is not installed",
		"plan9":   "not checked on plan9",
	} {
		if _, err := Collect(context.Background(), host.NewFake(goos, "arm64")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error = %v, want it to mention %q", goos, err, want)
		}
	}
}
