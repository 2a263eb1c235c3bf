package diskenc

import (
	"encoding/json"
	"fmt"
	"strings"
)

// lsblkDoc is `lsblk -J -o NAME,TYPE,FSTYPE,MOUNTPOINTS,PKNAME`. Since
// util-linux 2.37 a device lists all its mount points in "mountpoints";
// older versions only know the MOUNTPOINT column, a single "mountpoint"
// string. Missing values are null.
type lsblkDoc struct {
	BlockDevices []lsblkDev `json:"blockdevices"`
}

type lsblkDev struct {
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	FSType      *string    `json:"fstype"`
	MountPoints []*string  `json:"mountpoints"`
	MountPoint  *string    `json:"mountpoint"`
	PKName      *string    `json:"pkname"`
	Children    []lsblkDev `json:"children"`
}

// lsblkNode is one appearance of a device in lsblk's tree with the path
// down to its disk: a device built on several (LVM over two disks, RAID)
// appears once under each.
type lsblkNode struct {
	dev   lsblkDev
	below []lsblkDev // parent first, down to the disk
}

func parseLsblk(b []byte) ([]lsblkNode, error) {
	var doc lsblkDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse lsblk json: %w", err)
	}
	if doc.BlockDevices == nil {
		return nil, fmt.Errorf("parse lsblk json: no blockdevices array")
	}
	var out []lsblkNode
	var visit func(d lsblkDev, below []lsblkDev, depth int)
	visit = func(d lsblkDev, below []lsblkDev, depth int) {
		if depth > maxDepth {
			return
		}
		out = append(out, lsblkNode{dev: d, below: below})
		next := append([]lsblkDev{d}, below...)
		for _, c := range d.Children {
			visit(c, next, depth+1)
		}
	}
	for _, d := range doc.BlockDevices {
		visit(d, nil, 0)
	}
	return out, nil
}

// mountedAt reports whether the device is mounted at point ("/", "/home",
// or "[SWAP]" for active swap).
func (d lsblkDev) mountedAt(point string) bool {
	if d.MountPoint != nil && *d.MountPoint == point {
		return true
	}
	for _, m := range d.MountPoints {
		if m != nil && *m == point {
			return true
		}
	}
	return false
}

// judgeLsblk decides a device from its lsblk appearances: encrypted only
// when every path down to a disk passes through a crypt device.
func judgeLsblk(nodes []lsblkNode) (chain []Device, state, encryption, reason string) {
	state = StateEncrypted
	for i, n := range nodes {
		st, enc, why, ch := judgeLsblkPath(n)
		if i == 0 {
			chain = ch
		}
		switch {
		case st == StateNotEncrypted:
			state, reason = st, why
		case st == StateUnknown && state != StateNotEncrypted:
			state, reason = st, why
		case st == StateInMemory && state == StateEncrypted:
			state = st
		}
		if encryption == "" {
			encryption = enc
		}
	}
	if state != StateEncrypted {
		encryption = ""
	}
	return chain, state, encryption, reason
}

func judgeLsblkPath(n lsblkNode) (state, encryption, reason string, chain []Device) {
	path := append([]lsblkDev{n.dev}, n.below...)
	for _, d := range path {
		dev := Device{Name: d.Name, Kind: lsblkKind(d)}
		if dev.Kind == "crypt" {
			dev.Encryption = "dm-crypt"
			chain = append(chain, dev)
			return StateEncrypted, "dm-crypt", "", chain
		}
		chain = append(chain, dev)
		switch dev.Kind {
		case "zram":
			return StateInMemory, "", "", chain
		case "loop":
			return StateUnknown, "", d.Name + " is a loop device backed by a file", chain
		}
	}
	last := path[len(path)-1]
	return StateNotEncrypted, "", fmt.Sprintf("%s (%s) holds the data with no dm-crypt layer above it (lsblk)", last.Name, lsblkKind(last)), chain
}

// lsblkKind maps lsblk's TYPE (disk, part, crypt, lvm, raid1, loop, rom,
// mpath, dm) to the kinds used in the facts.
func lsblkKind(d lsblkDev) string {
	switch t := strings.ToLower(d.Type); {
	case t == "crypt":
		return "crypt"
	case t == "part":
		return "partition"
	case t == "lvm":
		return "lvm"
	case t == "loop":
		return "loop"
	case strings.HasPrefix(t, "raid"), t == "md":
		return "md"
	case t == "mpath":
		return "multipath"
	case t == "disk" && strings.HasPrefix(d.Name, "zram"):
		return "zram"
	case t == "disk":
		return "disk"
	}
	return "dm"
}
