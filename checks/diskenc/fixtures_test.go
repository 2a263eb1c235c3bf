package diskenc

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/host/live"
)

var (
	update = flag.Bool("update", false, "rewrite the constructed snapshot fixtures under testdata/linux/snapshots")
	record = flag.Bool("record", false, "record this machine's answers as testdata/linux/snapshots/this_machine")
)

// blockDev describes one /sys/class/block entry of a constructed fixture.
type blockDev struct {
	name, devID string
	dmName      string
	dmUUID      string
	partition   bool
	slaves      []string
}

// fixture is a constructed machine: mountinfo, swaps and block devices
// laid out as the kernel shows them (proc(5), sysfs-block ABI).
type fixture struct {
	mountinfo, swaps string
	devs             []blockDev
	mapperLinks      map[string]string // /dev/mapper/x -> ../dm-N
}

const swapsHeader = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

func swapLine(name, kind string, size int) string {
	return fmt.Sprintf("%-40s%s\t%d\t\t0\t\t-2\n", name, kind, size)
}

func (fx fixture) fake() *host.Fake {
	f := host.NewFake("linux", "amd64").
		AddFile(mountinfoPath, []byte(fx.mountinfo)).
		AddFile(swapsPath, []byte(fx.swaps))
	var dms []string
	for _, d := range fx.devs {
		base := sysBlock + d.name
		where := "../../devices/virtual/block/" + d.name
		if !strings.HasPrefix(d.name, "dm-") && !strings.HasPrefix(d.name, "zram") && !strings.HasPrefix(d.name, "md") {
			where = "../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/" + d.name
		}
		f.AddStat(sysDevBlock+d.devID, host.FileInfo{Name: d.devID, Mode: fs.ModeSymlink | 0o777, Link: where}, nil)
		f.AddStat("/dev/"+d.name, host.FileInfo{Name: d.name, Mode: fs.ModeDevice | 0o660}, nil)
		if d.dmUUID != "" {
			f.AddFile(base+"/dm/uuid", []byte(d.dmUUID+"\n")).AddFile(base+"/dm/name", []byte(d.dmName+"\n"))
			dms = append(dms, base)
		}
		if d.partition {
			f.AddFile(base+"/partition", []byte("3\n"))
		}
		f.AddDir(base+"/slaves", d.slaves, nil)
	}
	f.AddGlob(sysBlock+"dm-*", dms, nil)
	for from, to := range fx.mapperLinks {
		f.AddStat(from, host.FileInfo{Name: filepath.Base(from), Mode: fs.ModeSymlink | 0o777, Link: to}, nil)
	}
	return f
}

const (
	luksUUID = "CRYPT-LUKS2-5d1d0a5b8f1a4f0d9e0b1f6c3a2b7e91-nvme0n1p3_crypt"
	lvmRoot  = "LVM-Qm3d8Xr0yQe1Vb6Zt2Lk9Pw4Hs7Nc5Ju0aKx3Yf8Dg2Rm6Tq1Wz4Ev7Bn9Lc5Hp"
	lvmSwap  = "LVM-Qm3d8Xr0yQe1Vb6Zt2Lk9Pw4Hs7Nc5Ju8sGd2Kf6Lq0Zx3Cv5Bn7Mj9Pr1Tw4Ya"
)

var fixtures = map[string]fixture{
	// Ubuntu's "Encrypt the new installation" layout: LUKS2 on the third
	// partition, LVM inside it with root and swap.
	"luks_root_on_lvm": {
		mountinfo: "26 1 252:1 / / rw,relatime shared:1 - ext4 /dev/mapper/vgubuntu-root rw,errors=remount-ro\n" +
			"22 26 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n" +
			"95 26 259:2 / /boot rw,relatime shared:60 - ext4 /dev/nvme0n1p2 rw\n" +
			"98 95 259:1 / /boot/efi rw,relatime shared:62 - vfat /dev/nvme0n1p1 rw,fmask=0077,dmask=0077\n",
		swaps: swapsHeader + swapLine("/dev/dm-2", "partition", 1003516),
		devs: []blockDev{
			{name: "dm-0", devID: "252:0", dmName: "nvme0n1p3_crypt", dmUUID: luksUUID, slaves: []string{"nvme0n1p3"}},
			{name: "dm-1", devID: "252:1", dmName: "vgubuntu-root", dmUUID: lvmRoot, slaves: []string{"dm-0"}},
			{name: "dm-2", devID: "252:2", dmName: "vgubuntu-swap_1", dmUUID: lvmSwap, slaves: []string{"dm-0"}},
			{name: "nvme0n1p3", devID: "259:3", partition: true},
		},
		mapperLinks: map[string]string{"/dev/mapper/vgubuntu-root": "../dm-1"},
	},
	// A plain install: ext4 root and a swap partition, no dm-crypt.
	"plain_ext4": {
		mountinfo: "28 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n" +
			"30 28 259:4 / /home rw,relatime shared:65 - ext4 /dev/nvme0n1p4 rw\n",
		swaps: swapsHeader + swapLine("/dev/nvme0n1p3", "partition", 8388604),
		devs: []blockDev{
			{name: "nvme0n1p2", devID: "259:2", partition: true},
			{name: "nvme0n1p3", devID: "259:3", partition: true},
			{name: "nvme0n1p4", devID: "259:4", partition: true},
		},
	},
	// Root on LUKS (Fedora's layout: btrfs, whose st_dev is anonymous),
	// but a swap partition outside it.
	"encrypted_root_plain_swap": {
		mountinfo: "60 1 0:30 /root / rw,relatime shared:1 - btrfs /dev/mapper/luks-5d1d0a5b-8f1a-4f0d-9e0b-1f6c3a2b7e91 rw,seclabel,compress=zstd:1,ssd,space_cache=v2,subvolid=257,subvol=/root\n" +
			"95 60 0:30 /home /home rw,relatime shared:64 - btrfs /dev/mapper/luks-5d1d0a5b-8f1a-4f0d-9e0b-1f6c3a2b7e91 rw,seclabel,compress=zstd:1,ssd,space_cache=v2,subvolid=256,subvol=/home\n",
		swaps: swapsHeader + swapLine("/dev/nvme0n1p4", "partition", 8388604),
		devs: []blockDev{
			{name: "dm-0", devID: "253:0", dmName: "luks-5d1d0a5b-8f1a-4f0d-9e0b-1f6c3a2b7e91", dmUUID: "CRYPT-LUKS2-5d1d0a5b8f1a4f0d9e0b1f6c3a2b7e91-luks-5d1d0a5b-8f1a-4f0d-9e0b-1f6c3a2b7e91", slaves: []string{"nvme0n1p3"}},
			{name: "nvme0n1p3", devID: "259:3", partition: true},
			{name: "nvme0n1p4", devID: "259:4", partition: true},
		},
		mapperLinks: map[string]string{"/dev/mapper/luks-5d1d0a5b-8f1a-4f0d-9e0b-1f6c3a2b7e91": "../dm-0"},
	},
	// Fedora's default swap: zram, which never reaches the disk.
	"zram_swap": {
		mountinfo: "60 1 0:30 /root / rw,relatime shared:1 - btrfs /dev/mapper/luks-5d1d0a5b-8f1a-4f0d-9e0b-1f6c3a2b7e91 rw,subvolid=257,subvol=/root\n",
		swaps:     swapsHeader + swapLine("/dev/zram0", "partition", 8388604),
		devs: []blockDev{
			{name: "dm-0", devID: "253:0", dmName: "luks-5d1d0a5b-8f1a-4f0d-9e0b-1f6c3a2b7e91", dmUUID: "CRYPT-LUKS2-5d1d0a5b8f1a4f0d9e0b1f6c3a2b7e91-luks-5d1d0a5b-8f1a-4f0d-9e0b-1f6c3a2b7e91", slaves: []string{"nvme0n1p3"}},
			{name: "nvme0n1p3", devID: "259:3", partition: true},
			{name: "zram0", devID: "251:0"},
		},
		mapperLinks: map[string]string{"/dev/mapper/luks-5d1d0a5b-8f1a-4f0d-9e0b-1f6c3a2b7e91": "../dm-0"},
	},
	// The agent inside a Docker container: the root is overlayfs.
	"container_overlay": {
		mountinfo: "580 497 0:52 / / rw,relatime master:236 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/6ZKQ3G2XK4M7:/var/lib/docker/overlay2/l/T5W7CJQ2P3H4,upperdir=/var/lib/docker/overlay2/4b1d/diff,workdir=/var/lib/docker/overlay2/4b1d/work\n" +
			"581 580 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n",
		swaps: swapsHeader,
	},
}

func snapshotDir(name string) string { return filepath.Join("testdata", "linux", "snapshots", name) }

func TestWriteFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the constructed fixtures")
	}
	for name, fx := range fixtures {
		dir := snapshotDir(name)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := fx.fake().Save(dir); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecordThisMachine captures the real answers of the machine running
// the test, to add a fixture from real hardware.
func TestRecordThisMachine(t *testing.T) {
	if !*record {
		t.Skip("run with -record to capture this machine")
	}
	rec := host.NewRecorder(live.New())
	if _, err := Collect(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	dir := snapshotDir("virtio_ext4_recorded")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := rec.Save(dir); err != nil {
		t.Fatal(err)
	}
}
