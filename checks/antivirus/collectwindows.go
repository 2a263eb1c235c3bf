package antivirus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/wmirow"
)

// WMI sources on Windows.
const (
	defenderNS       = `root\Microsoft\Windows\Defender`
	defenderQuery    = "SELECT * FROM MSFT_MpComputerStatus"
	defenderPrefQ    = "SELECT ScanScheduleDay FROM MSFT_MpPreference"
	securityCenterNS = `root\SecurityCenter2`
	securityCenterQ  = "SELECT * FROM AntiVirusProduct"
	// wmiTimeout allows for PowerShell's start-up on a busy laptop.
	wmiTimeout = 30 * time.Second
)

// Registry fallbacks for Defender when its WMI provider cannot be read.
const (
	defenderSigKey    = `HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates`
	defenderRTKey     = `HKLM\SOFTWARE\Microsoft\Windows Defender\Real-Time Protection`
	defenderRTPolicy  = `HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\Real-Time Protection`
	forcePassiveKey   = `HKLM\SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection`
	programFilesKey   = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion`
	defenderName      = "Microsoft Defender Antivirus"
	sourceMpStatus    = "MSFT_MpComputerStatus"
	sourceSecCenter   = "Windows Security Center"
	staleSecCenterMsg = "Windows Security Center shows what the product last reported (at %s); it may be stale"
)

// collectWindows reads Microsoft Defender from its own WMI provider and
// every other product from Windows Security Center. Defender's Security
// Center entry confirms its mode; it stands in for Defender's WMI status
// only when that cannot be read.
func collectWindows(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Products: []Product{}}
	wsc, wscErr := queryWMI(ctx, h, securityCenterNS, securityCenterQ)
	switch {
	case errors.Is(wscErr, host.ErrNotFound):
		// Windows Server has no Security Center: nothing to add.
	case wscErr != nil:
		f.Notes = append(f.Notes, "Windows Security Center: "+wscErr.Error())
	}
	var msEntry *wscEntry
	var others []Product
	for _, row := range wsc {
		e := readWSCEntry(row)
		if isMicrosoftDefender(e) {
			if msEntry == nil {
				msEntry = &e
			}
			continue
		}
		others = append(others, wscProduct(h, e))
	}
	if p := collectDefender(ctx, h, f, msEntry); p != nil {
		f.Products = append(f.Products, *p)
	}
	f.Products = append(f.Products, others...)
	return f, nil
}

// isMicrosoftDefender tells Defender's own Security Center entry from a
// third-party product's: Windows as the owner in productState, Defender's
// "windowsdefender://" program, or a name that starts with Windows or
// Microsoft Defender. A bare "defender" in the name is not enough: it
// would take "Bitdefender Antivirus" (a real entry, see testdata) for
// Defender and drop the product actually protecting the machine.
func isMicrosoftDefender(e wscEntry) bool {
	name := strings.ToLower(strings.TrimSpace(e.name))
	return (e.hasState && e.state.Microsoft) ||
		strings.EqualFold(e.productExe, "windowsdefender://") ||
		strings.HasPrefix(name, "windows defender") || strings.HasPrefix(name, "microsoft defender")
}

func queryWMI(ctx context.Context, h host.Host, ns, q string) ([]map[string]any, error) {
	return wmirow.Query(ctx, h, ns, q, wmiTimeout, "the agent is not running as SYSTEM")
}

// collectDefender builds Defender's product from MSFT_MpComputerStatus,
// or from the registry and its Security Center entry when WMI fails.
func collectDefender(ctx context.Context, h host.Host, f *Facts, ms *wscEntry) *Product {
	rows, err := queryWMI(ctx, h, defenderNS, defenderQuery)
	if err == nil && len(rows) > 0 {
		p := defenderFromWMI(rows[0], ms)
		if p.RealTime != nil && !p.RealTime.Value {
			p.Scheduled = defenderSchedule(ctx, h)
		}
		return p
	}
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		f.Notes = append(f.Notes, "Microsoft Defender status: "+err.Error())
	}
	return defenderFallback(h, f, ms)
}

func defenderFromWMI(row map[string]any, ms *wscEntry) *Product {
	p := &Product{Kind: KindDefender, Name: defenderName, FoundBy: defenderNS + " " + sourceMpStatus}
	svc, okSvc := wmiBool(row, "AMServiceEnabled")
	av, okAV := wmiBool(row, "AntivirusEnabled")
	if okSvc || okAV {
		on := (!okSvc || svc) && (!okAV || av)
		p.Running = flag(on, fmt.Sprintf("%s AMServiceEnabled=%s AntivirusEnabled=%s", sourceMpStatus, showBool(svc, okSvc), showBool(av, okAV)))
	}
	if rt, ok := wmiBool(row, "RealTimeProtectionEnabled"); ok {
		p.RealTime = flag(rt, sourceMpStatus+" RealTimeProtectionEnabled")
	}
	p.Mode = defenderMode(row, ms)
	ver, _ := wmiString(row, "AntivirusSignatureVersion")
	if t, ok := wmiTime(row, "AntivirusSignatureLastUpdated"); ok {
		p.Definitions = &Definitions{Updated: &t, Version: ver, Source: sourceMpStatus + " AntivirusSignatureLastUpdated"}
	} else if days, ok := wmiInt(row, "AntivirusSignatureAge"); ok && days >= 0 && days < 65535 {
		m, day := days*24*60, int64(24*60)
		p.Definitions = &Definitions{AgeMinutes: &m, AgeResolutionMinutes: &day, Version: ver, Source: sourceMpStatus + " AntivirusSignatureAge (whole days)"}
	}
	if tp, ok := wmiBool(row, "IsTamperProtected"); ok {
		p.TamperProtected = flag(tp, sourceMpStatus+" IsTamperProtected")
	}
	return p
}

// defenderMode reads AMRunningMode ("Normal", "Passive Mode", "SxS
// Passive Mode", "EDR Block Mode"). Passive Defender still reports
// real-time protection on, so the mode decides. Windows before 1703 has
// no AMRunningMode: Security Center then says whether Defender is the
// active anti-virus.
func defenderMode(row map[string]any, ms *wscEntry) *Mode {
	if m, ok := wmiString(row, "AMRunningMode"); ok && m != "" {
		return &Mode{Name: m, Protecting: strings.EqualFold(m, "Normal"), Source: sourceMpStatus + " AMRunningMode"}
	}
	if ms != nil {
		return &Mode{Name: "Security Center state " + ms.state.Scanner, Protecting: ms.state.Scanner == "on", Source: sourceSecCenter + " " + ms.state.String()}
	}
	return nil
}

func showBool(v, ok bool) string {
	if !ok {
		return "unreported"
	}
	return fmt.Sprint(v)
}

// defenderSchedule reads whether a scheduled scan is set (ScanScheduleDay
// 8 is "never"), asked only when real-time protection is off.
func defenderSchedule(ctx context.Context, h host.Host) *Flag {
	rows, err := queryWMI(ctx, h, defenderNS, defenderPrefQ)
	if err != nil || len(rows) == 0 {
		return nil
	}
	day, ok := wmiInt(rows[0], "ScanScheduleDay")
	if !ok {
		return nil
	}
	return flag(day != 8, fmt.Sprintf("MSFT_MpPreference ScanScheduleDay=%d", day))
}

// defenderFallback reads the signature time from the registry and the
// on/off state from Security Center; without either, Defender is not
// reported.
func defenderFallback(h host.Host, f *Facts, ms *wscEntry) *Product {
	p := &Product{Kind: KindDefender, Name: defenderName}
	if ms != nil {
		p.FoundBy = sourceSecCenter
		on := ms.state.Scanner == "on"
		p.Running = flag(on, sourceSecCenter+" "+ms.state.String())
		p.RealTime = flag(on, sourceSecCenter+" "+ms.state.String())
		p.UpToDate = flag(ms.state.UpToDate, sourceSecCenter+" "+ms.state.String())
		p.Caveat = fmt.Sprintf(staleSecCenterMsg, ms.timestamp)
	}
	if v, err := h.Registry(defenderSigKey, "SignaturesLastUpdated"); err == nil {
		if t, ok := fileTime(v.Binary); ok {
			ver := ""
			if sv, err := h.Registry(defenderSigKey, "AVSignatureVersion"); err == nil {
				ver = sv.String
			}
			p.Definitions = &Definitions{Updated: &t, Version: ver, Source: defenderSigKey + ` SignaturesLastUpdated`}
			if p.FoundBy == "" {
				p.FoundBy = defenderSigKey
			}
		}
	} else if !errors.Is(err, host.ErrNotFound) {
		f.Notes = append(f.Notes, "Defender signature time in the registry: "+err.Error())
	}
	if p.FoundBy == "" {
		return nil
	}
	for _, key := range []string{defenderRTPolicy, defenderRTKey} {
		if v, err := h.Registry(key, "DisableRealtimeMonitoring"); err == nil && v.Integer == 1 {
			p.RealTime = flag(false, key+` DisableRealtimeMonitoring=1`)
			break
		}
	}
	if v, err := h.Registry(forcePassiveKey, "ForceDefenderPassiveMode"); err == nil && v.Integer == 1 {
		p.Mode = &Mode{Name: "Passive Mode", Source: forcePassiveKey + ` ForceDefenderPassiveMode=1`}
	}
	return p
}

// fileTime decodes a REG_BINARY FILETIME (100 ns ticks since 1601, little
// endian).
func fileTime(b []byte) (time.Time, bool) {
	if len(b) != 8 {
		return time.Time{}, false
	}
	ticks := binary.LittleEndian.Uint64(b)
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in ticks
	if ticks <= epochDiff {
		return time.Time{}, false
	}
	d := ticks - epochDiff
	return time.Unix(int64(d/1e7), int64(d%1e7)*100).UTC(), true
}
