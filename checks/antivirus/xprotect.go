package antivirus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// XProtect's bundle moved over the years; macOS 15 keeps updates fetched
// by the xprotect service under /private/var/protected.
var xprotectBundles = []string{
	"/Library/Apple/System/Library/CoreServices/XProtect.bundle",
	"/private/var/protected/xprotect/XProtect.bundle",
	"/System/Library/CoreServices/XProtect.bundle",
}

const (
	installHistoryPath   = "/Library/Receipts/InstallHistory.plist"
	systemProfilerPath   = "/usr/sbin/system_profiler"
	softwareUpdatePlist  = "/Library/Preferences/com.apple.SoftwareUpdate.plist"
	managedSoftwareUpd   = "/Library/Managed Preferences/com.apple.SoftwareUpdate.plist"
	xprotectRemediator   = "/Library/Apple/System/Library/CoreServices/XProtect.app/Contents/MacOS/XProtectRemediator"
	xprotectRemediatorV2 = "/Library/Apple/System/Library/CoreServices/XProtect.app"
	systemProfilerWait   = 30 * time.Second
	xprotectCaveat       = "XProtect scans apps when they are first opened, downloaded or changed, and XProtect Remediator scans in the background; it does not scan every file on access"
)

// collectXProtect reads XProtect's version and install time, and the last
// successful software update check that would have installed a newer one.
func collectXProtect(ctx context.Context, h host.Host, f *Facts) *Product {
	var p *Product
	var newest time.Time
	for _, b := range xprotectBundles {
		info := b + "/Contents/Info.plist"
		st, err := h.Stat(info)
		if err != nil {
			if !errors.Is(err, host.ErrNotFound) {
				f.Notes = append(f.Notes, fmt.Sprintf("stat %s: %v", info, err))
			}
			continue
		}
		if p == nil {
			p = &Product{Kind: KindXProtect, Name: "XProtect", FoundBy: b, Caveat: xprotectCaveat}
		}
		if p.Definitions != nil && !st.ModTime.After(newest) {
			continue
		}
		// The modification time dates the definitions only when the file
		// is the bundle's real Info.plist, with its version: an empty or
		// foreign file's time says nothing.
		raw, err := h.ReadFile(info)
		if err != nil {
			f.Notes = append(f.Notes, fmt.Sprintf("read %s: %v", info, err))
			continue
		}
		v, err := bundleVersion(raw)
		if err != nil {
			f.Notes = append(f.Notes, fmt.Sprintf("%s: %v", info, err))
			continue
		}
		newest = st.ModTime
		mt := st.ModTime.UTC()
		d := &Definitions{Source: "modification time of " + info, Version: v}
		if !mt.IsZero() {
			d.Updated = &mt
		}
		p.Definitions = d
	}
	if p == nil {
		return nil
	}
	if p.Definitions == nil {
		p.Definitions = &Definitions{Source: "no readable XProtect Info.plist"}
	}
	if e, src, ok := xprotectInstall(ctx, h, f); ok && (p.Definitions.Updated == nil || e.Date.After(*p.Definitions.Updated)) {
		t := e.Date
		p.Definitions.Updated, p.Definitions.Source = &t, src+" "+e.Name
		if e.Version != "" {
			p.Definitions.Version = e.Version
		}
	}
	xprotectChecked(h, p.Definitions)
	p.RealTime = flag(true, "XProtect scans on first launch, download and change (built into macOS, protected by System Integrity Protection)")
	for _, r := range []string{xprotectRemediator, xprotectRemediatorV2} {
		if ok, _ := exists(h, r); ok {
			p.Scheduled = flag(true, "XProtect Remediator background scans ("+r+")")
			break
		}
	}
	return p
}

// xprotectInstall finds the newest XProtect data install in the install
// history plist, or in system_profiler (slow) when the plist is missing.
func xprotectInstall(ctx context.Context, h host.Host, f *Facts) (installEntry, string, bool) {
	b, err := h.ReadFile(installHistoryPath)
	if err == nil {
		e, ok, perr := parseInstallHistory(b)
		if perr == nil {
			return e, installHistoryPath, ok
		}
		err = perr
	}
	out, rerr := run(ctx, h, systemProfilerWait, systemProfilerPath, "-json", "SPInstallHistoryDataType")
	if rerr == nil && out.ExitCode != 0 {
		rerr = exitError("system_profiler", out)
	}
	if rerr != nil {
		f.Notes = append(f.Notes, fmt.Sprintf("XProtect install history: %v; %v", err, rerr))
		return installEntry{}, "", false
	}
	e, ok, perr := parseSPInstallHistory(out.Stdout)
	if perr != nil {
		f.Notes = append(f.Notes, "XProtect install history: "+perr.Error())
		return installEntry{}, "", false
	}
	return e, "system_profiler SPInstallHistoryDataType", ok
}

// xprotectChecked credits the last successful software update check when
// macOS installs XProtect data automatically: Apple publishes XProtect
// updates every few weeks, so a recent check with nothing to install
// means the installed definitions are the newest.
func xprotectChecked(h host.Host, d *Definitions) {
	b, err := h.ReadFile(softwareUpdatePlist)
	if err != nil {
		return
	}
	prefs, err := parseSoftwareUpdatePrefs(b)
	if err != nil {
		return
	}
	src := softwareUpdatePlist
	if mb, err := h.ReadFile(managedSoftwareUpd); err == nil {
		if managed, err := parseSoftwareUpdatePrefs(mb); err == nil {
			prefs, src = prefs.merge(managed), src+" and "+managedSoftwareUpd
		}
	}
	if prefs.LastSuccessfulDate == nil || !prefs.autoInstallsXProtect() {
		return
	}
	t := prefs.LastSuccessfulDate.UTC()
	d.Checked, d.CheckedSource = &t, src+" LastSuccessfulDate (automatic install of security data on)"
}
