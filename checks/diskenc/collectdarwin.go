package diskenc

import (
	"context"
	"fmt"

	"github.com/postern-dev/postern/checks/host"
)

// macOS sources.
const (
	diskutilPath = "/usr/sbin/diskutil"
	fdesetupPath = "/usr/bin/fdesetup"
)

// collectDarwin reads FileVault for the startup disk's Data volume from
// `diskutil apfs list -plist` (structured), finds the startup container
// with `diskutil info -plist /`, and confirms with `fdesetup status`,
// which also says whether encryption is still in progress. Without
// diskutil, fdesetup alone decides.
func collectDarwin(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{}
	info, infoErr := diskutilPlist(ctx, h, parseDiskInfo, "info", "-plist", "/")
	list, listErr := diskutilPlist(ctx, h, parseAPFSList, "apfs", "list", "-plist")
	fde, fdeErr := fdesetup(ctx, h)
	for _, e := range []error{infoErr, listErr, fdeErr} {
		if e != nil {
			f.Notes = append(f.Notes, e.Error())
		}
	}
	var fdeP *fdeStatus
	if fdeErr == nil {
		fdeP = &fde
	}
	switch {
	case listErr == nil:
		f.Source = "diskutil apfs list -plist"
		f.Volumes = apfsVolumes(list, info, fdeP)
		if len(f.Volumes) == 0 && infoErr == nil {
			f.Volumes = []Volume{infoVolume(info, fdeP)}
		}
	case infoErr == nil:
		f.Source = "diskutil info -plist /"
		f.Volumes = []Volume{infoVolume(info, fdeP)}
	case fdeErr == nil:
		f.Source = "fdesetup status"
		v := Volume{Role: "root", MountPoint: "/", Source: "fdesetup status", Encryption: "FileVault"}
		judgeFileVault(&v, nil, fdeP)
		f.Volumes = []Volume{v}
	default:
		return nil, fmt.Errorf("read FileVault status: %v; %v; %v", infoErr, listErr, fdeErr)
	}
	if fdeErr == nil {
		f.Source += ", confirmed by fdesetup status"
	}
	if len(f.Volumes) == 0 {
		return nil, fmt.Errorf("read FileVault status: diskutil lists no APFS Data volume for the startup disk")
	}
	return f, nil
}

func diskutilPlist[T any](ctx context.Context, h host.Host, parse func([]byte) (*T, error), args ...string) (*T, error) {
	out, err := runTool(ctx, h, diskutilPath, args...)
	if err != nil {
		return nil, err
	}
	if out.ExitCode != 0 {
		return nil, fmt.Errorf("diskutil %s exited %d: %s", args[0], out.ExitCode, firstLine(append(out.Stderr, out.Stdout...)))
	}
	return parse(out.Stdout)
}

func fdesetup(ctx context.Context, h host.Host) (fdeStatus, error) {
	out, err := runTool(ctx, h, fdesetupPath, "status")
	if err != nil {
		return fdeStatus{}, err
	}
	st, ok := parseFdesetup(out.Stdout)
	if !ok {
		return st, fmt.Errorf("fdesetup status exited %d without a known status: %s", out.ExitCode, firstLine(append(out.Stdout, out.Stderr...)))
	}
	return st, nil
}

// apfsVolumes returns the Data volumes of the startup container (from
// diskutil info), or of every container holding a System volume.
func apfsVolumes(l *apfsList, info *diskInfo, fde *fdeStatus) []Volume {
	var out []Volume
	for _, c := range l.Containers {
		isStartup := false
		if info != nil && info.APFSContainerReference != "" {
			isStartup = c.ContainerReference == info.APFSContainerReference
		} else {
			for _, v := range c.Volumes {
				isStartup = isStartup || v.hasRole("System")
			}
		}
		if !isStartup {
			continue
		}
		for _, av := range c.Volumes {
			if !av.hasRole("Data") {
				continue
			}
			v := Volume{Role: "data", Source: av.DeviceIdentifier, MountPoint: av.Name, Encryption: "FileVault"}
			judgeFileVault(&v, av.FileVault, fde)
			v.StateSource = "diskutil apfs list FileVault=" + showBoolp(av.FileVault) + "; " + v.StateSource
			out = append(out, v)
		}
	}
	return out
}

// infoVolume judges the root volume of a Mac without a Data role (macOS
// 10.14 and earlier) from diskutil info.
func infoVolume(info *diskInfo, fde *fdeStatus) Volume {
	v := Volume{Role: "root", MountPoint: "/", Source: info.DeviceIdentifier, FSType: info.FilesystemType, Encryption: "FileVault"}
	judgeFileVault(&v, info.FileVault, fde)
	v.StateSource = "diskutil info FileVault=" + showBoolp(info.FileVault) + "; " + v.StateSource
	return v
}

// judgeFileVault combines diskutil's FileVault flag (nil when unread)
// with fdesetup; they must agree.
func judgeFileVault(v *Volume, fv *bool, fde *fdeStatus) {
	if fde != nil {
		v.StateSource = "fdesetup: " + fde.line
		v.PercentEncrypted = fde.percent
		v.Conversion = fde.state
	}
	switch {
	case fde != nil && fde.state == fdeEncrypting:
		v.State, v.Reason = StateEncrypting, "FileVault encryption is in progress"
	case fde != nil && fde.state == fdeDecrypting:
		v.State, v.Reason = StateNotEncrypted, "FileVault is being turned off (decryption in progress)"
	case fv != nil && fde != nil && *fv != (fde.state == fdeOn):
		v.State = StateUnknown
		v.Reason = fmt.Sprintf("diskutil says FileVault=%t but fdesetup says %q", *fv, fde.line)
	case fv != nil && *fv, fv == nil && fde != nil && fde.state == fdeOn:
		v.State, v.Protection = StateEncrypted, "on"
	case fv != nil, fde != nil:
		v.State, v.Protection, v.Reason = StateNotEncrypted, "off", "FileVault is off"
	default:
		v.State, v.Reason = StateUnknown, "no source reported FileVault for the volume"
	}
}

func showBoolp(b *bool) string {
	if b == nil {
		return "unreported"
	}
	return fmt.Sprint(*b)
}
