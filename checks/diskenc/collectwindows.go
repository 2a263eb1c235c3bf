package diskenc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/wmirow"
)

// Windows sources.
const (
	bitlockerNS      = `root\CIMV2\Security\MicrosoftVolumeEncryption`
	bitlockerQuery   = "SELECT * FROM Win32_EncryptableVolume"
	currentVersionNT = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	bitlockerHintKey = `HKLM\SYSTEM\CurrentControlSet\Control\BitLockerStatus`
	sourceWMI        = "Win32_EncryptableVolume"
	sourceManageBDE  = "manage-bde -status"
	// wmiTimeout allows for PowerShell's start-up on a busy laptop.
	wmiTimeout = 30 * time.Second
)

// Win32_EncryptableVolume values.
const (
	volumeOS        = 0
	volumeFixed     = 1
	volumeRemovable = 2
)

var conversionNames = map[int64]string{
	0: "fully decrypted", 1: "fully encrypted", 2: "encryption in progress",
	3: "decryption in progress", 4: "encryption paused", 5: "decryption paused",
}

var methodNames = map[int64]string{
	0: "none", 1: "AES-128 with diffuser", 2: "AES-256 with diffuser", 3: "AES-128", 4: "AES-256",
	5: "hardware encryption", 6: "XTS-AES-128", 7: "XTS-AES-256",
}

// collectWindows reads BitLocker (and device encryption, which is
// BitLocker) for the OS volume and every fixed data volume from
// Win32_EncryptableVolume, and confirms each with manage-bde, whose
// status is read live: WMI's ProtectionStatus can be a cached value.
// When WMI cannot be read, manage-bde alone decides.
func collectWindows(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{}
	rows, wmiErr := queryWMI(ctx, h, bitlockerNS, bitlockerQuery)
	mbde, mbdeErr := runManageBDE(ctx, h)
	if wmiErr != nil {
		f.Notes = append(f.Notes, sourceWMI+": "+wmiErr.Error())
	}
	if mbdeErr != nil {
		f.Notes = append(f.Notes, sourceManageBDE+": "+mbdeErr.Error())
	}
	if v, err := h.Registry(bitlockerHintKey, "BootStatus"); err == nil {
		f.Notes = append(f.Notes, fmt.Sprintf(`registry hint: %s BootStatus=%d`, bitlockerHintKey, v.Integer))
	}
	sysDrive := systemDrive(h)
	if wmiErr == nil && len(rows) == 0 && mbdeErr == nil {
		// Zero rows is no answer about any volume; manage-bde listed some.
		f.Notes = append(f.Notes, sourceWMI+" returned no volume; "+sourceManageBDE+" decides")
		wmiErr = errors.New("no volume listed")
	}
	switch {
	case wmiErr == nil:
		f.Source = bitlockerNS + " " + sourceWMI
		if mbdeErr == nil {
			f.Source += ", confirmed by " + sourceManageBDE
		}
		f.Volumes = wmiVolumes(f, rows, mbde, sysDrive)
	case mbdeErr == nil:
		f.Source = sourceManageBDE
		f.Volumes = mbdeVolumes(mbde, sysDrive)
	default:
		return nil, fmt.Errorf("read BitLocker status: %v; %v", wmiErr, mbdeErr)
	}
	if len(f.Volumes) == 0 {
		return nil, fmt.Errorf("read BitLocker status: no OS or fixed data volume was listed (%s)", f.Source)
	}
	return f, nil
}

func queryWMI(ctx context.Context, h host.Host, ns, q string) ([]map[string]any, error) {
	rows, err := wmirow.Query(ctx, h, ns, q, wmiTimeout, "BitLocker status needs an administrator or SYSTEM")
	if errors.Is(err, host.ErrNotFound) {
		return nil, host.Wrap(host.ErrNotFound, fmt.Errorf("wmi query in %s: the BitLocker provider is not installed (%v)", ns, err))
	}
	return rows, err
}

func runManageBDE(ctx context.Context, h host.Host) (map[string]mbdeVolume, error) {
	path := systemRoot(h) + `\System32\manage-bde.exe`
	out, err := runTool(ctx, h, path, "-status")
	if err != nil {
		return nil, err
	}
	vols := parseManageBDE(out.Stdout)
	if out.ExitCode != 0 || len(vols) == 0 {
		text := decodeConsole(out.Stderr) + "\n" + decodeConsole(out.Stdout)
		low := strings.ToLower(text)
		msg := problemLine(text)
		if strings.Contains(low, "administrat") || strings.Contains(low, "denied") {
			return nil, host.Wrap(host.ErrPermission, fmt.Errorf("manage-bde needs an administrator: %s", msg))
		}
		return nil, fmt.Errorf("manage-bde exited %d with no volume: %s", out.ExitCode, msg)
	}
	m := map[string]mbdeVolume{}
	for _, v := range vols {
		m[v.letter] = v
	}
	return m, nil
}

// systemRoot is the Windows directory from the registry, as the agent's
// own environment cannot be trusted to be the machine's.
func systemRoot(h host.Host) string {
	if v, err := h.Registry(currentVersionNT, "SystemRoot"); err == nil && v.String != "" {
		return strings.TrimRight(v.String, `\`)
	}
	return `C:\Windows`
}

func systemDrive(h host.Host) string {
	r := systemRoot(h)
	if len(r) >= 2 && r[1] == ':' {
		return strings.ToUpper(r[:2])
	}
	return "C:"
}

func wmiVolumes(f *Facts, rows []map[string]any, mbde map[string]mbdeVolume, sysDrive string) []Volume {
	var out []Volume
	for _, r := range rows {
		letter := strings.ToUpper(wmiString(r, "DriveLetter"))
		vt, hasType := wmiInt(r, "VolumeType")
		if !hasType {
			// Windows 7 has no VolumeType: the system drive is the OS
			// volume, other lettered volumes count as fixed.
			vt = volumeFixed
			if letter == sysDrive {
				vt = volumeOS
			}
		}
		switch {
		case vt == volumeRemovable:
			f.Notes = append(f.Notes, fmt.Sprintf("removable volume %s not required", orID(letter, r)))
			continue
		case vt != volumeOS && vt != volumeFixed:
			f.Notes = append(f.Notes, fmt.Sprintf("volume %s of type %d not required", orID(letter, r), vt))
			continue
		case vt == volumeFixed && letter == "":
			f.Notes = append(f.Notes, fmt.Sprintf("fixed volume %s has no drive letter (a system or recovery partition) and is not required", orID("", r)))
			continue
		}
		v := Volume{Role: "data", MountPoint: letter, Source: wmiString(r, "DeviceID")}
		if vt == volumeOS {
			v.Role = "os"
		}
		if m, ok := wmiInt(r, "EncryptionMethod"); ok {
			v.Encryption = methodNames[m]
		}
		judgeBitLocker(&v, r, mbde)
		out = append(out, v)
	}
	return out
}

func orID(letter string, r map[string]any) string {
	if letter != "" {
		return letter
	}
	return wmiString(r, "DeviceID")
}

// judgeBitLocker decides a volume from WMI and checks the answer against
// manage-bde.
func judgeBitLocker(v *Volume, r map[string]any, mbde map[string]mbdeVolume) {
	ps, okPS := wmiInt(r, "ProtectionStatus")
	cs, okCS := wmiInt(r, "ConversionStatus")
	if okCS {
		v.Conversion = conversionNames[cs]
	}
	v.Protection = map[int64]string{0: "off", 1: "on", 2: "unknown (locked)"}[ps]
	v.StateSource = fmt.Sprintf("%s ProtectionStatus=%d ConversionStatus=%s", sourceWMI, ps, showInt(cs, okCS))
	switch {
	case !okPS:
		v.State, v.Reason = StateUnknown, "Win32_EncryptableVolume did not report ProtectionStatus"
	case okCS && (cs == 2 || cs == 4):
		v.State, v.Reason = StateEncrypting, "BitLocker encryption is "+v.Conversion
	case okCS && (cs == 0 || cs == 3 || cs == 5):
		v.State, v.Reason = StateNotEncrypted, "BitLocker reports the volume "+v.Conversion
	case ps == 1:
		v.State = StateEncrypted
	case ps == 2:
		// Only an encrypted volume can be locked.
		v.State = StateEncrypted
	default:
		v.State, v.Reason = StateProtectionOff, "the volume is encrypted but BitLocker protection is off (suspended, or device encryption waiting for activation)"
	}
	m, ok := mbde[v.MountPoint]
	if !ok || v.MountPoint == "" {
		return
	}
	if m.percent != nil {
		v.PercentEncrypted = m.percent
	}
	// manage-bde asks the driver while WMI's values can be cached, so
	// where the two disagree manage-bde's live reading decides, in both
	// directions.
	switch {
	case m.protected == nil:
		v.StateSource += "; manage-bde's protection status \"" + m.rawStatus + "\" was not understood"
	case v.State == StateEncrypting && m.percent != nil && *m.percent >= 100 && *m.protected:
		// Conversion still "in progress" at 100.0 % is the last fraction
		// of a percent (manage-bde says so too); protection is already on.
		v.State, v.Protection, v.Reason = StateEncrypted, "on", ""
		v.StateSource += fmt.Sprintf("; manage-bde: %q at %.1f%% encrypted, so counted as encrypted", m.rawStatus, *m.percent)
	case v.State == StateEncrypted && m.percent != nil && *m.percent < 100:
		v.State, v.Reason = StateEncrypting, fmt.Sprintf("manage-bde reports %.1f%% encrypted although %s said %s", *m.percent, sourceWMI, orWord(v.Conversion, "encrypted"))
		v.StateSource += "; overruled by manage-bde"
	case v.State == StateEncrypted && ps == 1 && !*m.protected:
		// WMI's value was cached; manage-bde asked the driver.
		v.State, v.Protection = StateProtectionOff, "off"
		v.Reason = "manage-bde reports protection off (\"" + m.rawStatus + "\") although Win32_EncryptableVolume said on"
		v.StateSource += "; overruled by manage-bde"
	default:
		v.StateSource += fmt.Sprintf("; manage-bde: %q", m.rawStatus)
	}
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func showInt(n int64, ok bool) string {
	if !ok {
		return "unreported"
	}
	return fmt.Sprint(n)
}

// mbdeVolumes decides from manage-bde alone. It cannot tell removable
// drives apart in every language, so every listed volume is judged.
func mbdeVolumes(mbde map[string]mbdeVolume, sysDrive string) []Volume {
	var out []Volume
	for _, letter := range sortedKeys(mbde) {
		m := mbde[letter]
		v := Volume{Role: "data", MountPoint: letter, Source: sourceManageBDE, PercentEncrypted: m.percent, StateSource: fmt.Sprintf("manage-bde: %q", m.rawStatus)}
		if letter == sysDrive {
			v.Role = "os"
		}
		switch {
		case m.protected == nil || m.percent == nil:
			v.State, v.Reason = StateUnknown, "manage-bde's output for "+letter+" was not understood"
		case *m.percent == 0:
			v.State, v.Reason = StateNotEncrypted, "manage-bde reports 0% encrypted"
		case *m.percent < 100:
			v.State, v.Reason = StateEncrypting, fmt.Sprintf("BitLocker encryption is %.1f%% done", *m.percent)
		case *m.protected:
			v.State, v.Protection = StateEncrypted, "on"
		default:
			v.State, v.Protection = StateProtectionOff, "off"
			v.Reason = "the volume is encrypted but BitLocker protection is off (suspended, or device encryption waiting for activation)"
		}
		out = append(out, v)
	}
	return out
}

// problemLine picks the line of a tool's output that states its error,
// else its first line.
func problemLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		low := strings.ToLower(l)
		if strings.Contains(low, "error") || strings.Contains(low, "denied") {
			return firstLine([]byte(l))
		}
	}
	return firstLine([]byte(strings.TrimSpace(text)))
}
