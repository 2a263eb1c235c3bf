package diskenc

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

const (
	mountinfoPath = "/proc/self/mountinfo"
	swapsPath     = "/proc/swaps"
	sysBlock      = "/sys/class/block/"
	sysDevBlock   = "/sys/dev/block/"
	// maxDepth bounds the walk down the device stack; real stacks are
	// three or four deep (LVM on crypt on partition).
	maxDepth = 8
)

// virtualRoots are filesystems whose backing disk cannot be seen from
// here: a container's root, a live system in RAM, a network root.
var virtualRoots = map[string]bool{
	"overlay": true, "tmpfs": true, "aufs": true, "ramfs": true, "rootfs": true,
	"9p": true, "virtiofs": true, "nfs": true, "nfs4": true, "cifs": true, "fuse-overlayfs": true,
}

func collectLinux(ctx context.Context, h host.Host) (*Facts, error) {
	c := &linuxCollector{ctx: ctx, h: h}
	mi, err := h.ReadFile(mountinfoPath)
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	ms := parseMountinfo(mi)
	f := &Facts{Source: "/proc/self/mountinfo, /proc/swaps, /sys/class/block"}
	root, ok := lastMount(ms, "/")
	if !ok {
		return nil, fmt.Errorf("read mounts: %s has no / mount", mountinfoPath)
	}
	f.Volumes = append(f.Volumes, c.mountVolume("root", root))
	if home, ok := lastMount(ms, "/home"); ok {
		f.Volumes = append(f.Volumes, c.mountVolume("home", home))
	}
	sw, err := h.ReadFile(swapsPath)
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		return nil, fmt.Errorf("read swap areas: %w", err)
	}
	for _, s := range parseSwaps(sw) {
		f.Volumes = append(f.Volumes, c.swapVolume(ms, s))
	}
	if c.lsblkUsed {
		f.Source += ", " + sourceLsblk
	}
	return f, nil
}

func (c *linuxCollector) mountVolume(role string, m mount) Volume {
	h := c.h
	v := Volume{Role: role, MountPoint: m.mountPoint, Source: m.source, FSType: m.fsType}
	if virtualRoots[m.fsType] || strings.HasPrefix(m.fsType, "fuse") {
		v.State = StateUnknown
		v.Reason = fmt.Sprintf("%s is a %s filesystem (a container or network mount): the disk behind it cannot be seen from here", m.mountPoint, m.fsType)
		return v
	}
	dev, err := deviceOf(h, m.devID, m.source)
	if err != nil {
		v.State, v.Reason = StateUnknown, err.Error()
		return c.fromLsblk(v, m.mountPoint)
	}
	var sysfsFailed bool
	v.Chain, v.State, v.Encryption, v.Reason, sysfsFailed = walk(h, dev)
	if sysfsFailed {
		return c.fromLsblk(v, m.mountPoint)
	}
	return v
}

func (c *linuxCollector) swapVolume(ms []mount, s swapArea) Volume {
	h := c.h
	v := Volume{Role: "swap", Source: s.name}
	if s.kind == "file" {
		m, ok := mountOf(ms, s.name)
		if !ok {
			v.State, v.Reason = StateUnknown, "no mount holds the swap file"
			return v
		}
		fv := c.mountVolume("swap", m)
		fv.Source, fv.MountPoint = s.name, m.mountPoint
		return fv
	}
	dev, err := deviceOf(h, "", s.name)
	if err != nil {
		v.State, v.Reason = StateUnknown, err.Error()
		return c.fromLsblk(v, swapMark)
	}
	var sysfsFailed bool
	v.Chain, v.State, v.Encryption, v.Reason, sysfsFailed = walk(h, dev)
	if sysfsFailed {
		return c.fromLsblk(v, swapMark)
	}
	return v
}

// deviceOf finds the kernel name (dm-0, nvme0n1p2) of a mounted device:
// by its major:minor when it has a real one, else by its /dev path.
func deviceOf(h host.Host, devID, source string) (string, error) {
	if devID != "" && !strings.HasPrefix(devID, "0:") {
		if fi, err := h.Stat(sysDevBlock + devID); err == nil && fi.Link != "" {
			return path.Base(fi.Link), nil
		}
	}
	if !strings.HasPrefix(source, "/dev/") {
		return "", fmt.Errorf("%s is not a block device", source)
	}
	fi, err := h.Stat(source)
	if err == nil && fi.Link != "" {
		return path.Base(fi.Link), nil
	}
	if name, ok := strings.CutPrefix(source, "/dev/mapper/"); ok {
		return dmByName(h, name)
	}
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		return "", fmt.Errorf("find the device of %s: %w", source, err)
	}
	return path.Base(source), nil
}

// dmByName finds dm-N whose device-mapper name is name, for systems where
// /dev/mapper entries are device nodes rather than links.
func dmByName(h host.Host, name string) (string, error) {
	devs, err := h.Glob(sysBlock + "dm-*")
	if err != nil {
		return "", fmt.Errorf("find device-mapper device %s: %w", name, err)
	}
	for _, d := range devs {
		if b, err := h.ReadFile(d + "/dm/name"); err == nil && strings.TrimSpace(string(b)) == name {
			return path.Base(d), nil
		}
	}
	return "", fmt.Errorf("find device-mapper device %s: not found", name)
}

// walk describes dev and everything under it and decides whether the data
// written to dev reaches a disk only encrypted. sysfsFailed reports that
// sysfs could not be read (not mounted, not readable, or the device is
// missing from it), so that another source should be asked.
func walk(h host.Host, dev string) (chain []Device, state, encryption, reason string, sysfsFailed bool) {
	var visit func(name string, depth int) (string, string, string)
	visit = func(name string, depth int) (string, string, string) {
		if depth > maxDepth {
			return StateUnknown, "", "the device stack is deeper than expected"
		}
		d := Device{Name: name, Kind: "disk"}
		base := sysBlock + name
		if uuid, err := h.ReadFile(base + "/dm/uuid"); err == nil {
			if n, err := h.ReadFile(base + "/dm/name"); err == nil {
				d.DMName = strings.TrimSpace(string(n))
			}
			if t := cryptType(string(uuid)); t != "" {
				d.Kind, d.Encryption = "crypt", t
				chain = append(chain, d)
				return StateEncrypted, t, ""
			}
			d.Kind = dmKind(strings.TrimSpace(string(uuid)))
		} else if !errors.Is(err, host.ErrNotFound) {
			chain = append(chain, d)
			sysfsFailed = true
			return StateUnknown, "", fmt.Sprintf("read %s: %v", base+"/dm/uuid", err)
		}
		switch {
		case strings.HasPrefix(name, "zram"):
			d.Kind = "zram"
			chain = append(chain, d)
			return StateInMemory, "", ""
		case strings.HasPrefix(name, "loop"):
			d.Kind = "loop"
			chain = append(chain, d)
			return StateUnknown, "", name + " is a loop device backed by a file"
		case strings.HasPrefix(name, "md"):
			d.Kind = "md"
		case d.Kind == "disk":
			if _, err := h.ReadFile(base + "/partition"); err == nil {
				d.Kind = "partition"
			}
		}
		chain = append(chain, d)
		// Every block device in sysfs has a slaves directory, empty for
		// a disk or partition; its absence means sysfs cannot be read,
		// which must not be taken for "no encryption layer".
		slaves, err := h.ReadDir(base + "/slaves")
		if err != nil {
			sysfsFailed = true
			return StateUnknown, "", fmt.Sprintf("read %s: %v", base+"/slaves", err)
		}
		if len(slaves) == 0 {
			return StateNotEncrypted, "", fmt.Sprintf("%s (%s) holds the data with no dm-crypt layer above it", name, d.Kind)
		}
		return combine(slaves, func(s string) (string, string, string) { return visit(s, depth+1) })
	}
	state, encryption, reason = visit(dev, 0)
	return chain, state, encryption, reason, sysfsFailed
}

// combine judges a device built on several (LVM over two disks, RAID):
// encrypted only when every part is.
func combine(parts []string, visit func(string) (string, string, string)) (string, string, string) {
	state, enc, reason := StateEncrypted, "", ""
	for _, p := range parts {
		s, e, r := visit(p)
		switch {
		case s == StateNotEncrypted:
			state, reason = s, r
		case s == StateUnknown && state != StateNotEncrypted:
			state, reason = s, r
		case s == StateInMemory && state == StateEncrypted:
			state = s
		}
		if e != "" && enc == "" {
			enc = e
		}
	}
	if state != StateEncrypted {
		enc = ""
	}
	return state, enc, reason
}
