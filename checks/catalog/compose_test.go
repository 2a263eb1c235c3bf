package catalog_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// The two laptop snapshots are composed from captured parts (see
// ../testdata/README.md) and rewritten with -update.

func part(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func laptop(t *testing.T, hostname, firewallNFT string, ufw bool, disk string) *host.Fake {
	f := host.NewFake("linux", "amd64")
	f.SetMeta(host.SnapshotMeta{GOOS: "linux", Arch: "amd64", Hostname: hostname, AgentVersion: "fixture", RecordedAt: time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)})
	d, err := host.OpenSnapshot("../diskenc/testdata/linux/snapshots/" + disk)
	if err != nil {
		t.Fatal(err)
	}
	f.AddSnapshot(d)
	fw := "../firewall/testdata/linux/"
	f.AddFile("/proc/sys/kernel/hostname", []byte(hostname+"\n")).
		AddFile("/etc/os-release", part(t, "../device/testdata/linux/os-release__debian12.txt")).
		AddRun([]string{"/usr/bin/uname", "-m"}, host.Output{Stdout: []byte("x86_64\n")}, nil).
		AddFile("/proc/sys/net/ipv6/conf/all/disable_ipv6", []byte("0\n")).
		AddRun([]string{"/usr/sbin/nft", "-j", "list", "ruleset"}, host.Output{Stdout: part(t, fw+firewallNFT)}, nil)
	if ufw {
		f.AddFile("/etc/ufw/ufw.conf", part(t, fw+"ufw.conf__enabled.txt")).
			AddRun([]string{"/usr/sbin/ufw", "status"}, host.Output{Stdout: part(t, fw+"ufw__active.txt")}, nil).
			AddRun([]string{"/usr/sbin/iptables-save"}, host.Output{Stdout: part(t, fw+"iptables-save__ufw_active.txt")}, nil)
	}
	return f
}

func TestComposeLaptopSnapshots(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the laptop snapshots")
	}
	for name, f := range map[string]*host.Fake{
		"linux-compliant":    laptop(t, "ibhis-laptop-01", "nft__ufw_active.txt", true, "luks_root_on_lvm"),
		"linux-noncompliant": laptop(t, "ibhis-laptop-02", "nft__empty.txt", false, "plain_ext4"),
	} {
		dir := filepath.Join("..", "testdata", "snapshots", name)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := f.Save(dir); err != nil {
			t.Fatal(err)
		}
	}
}
