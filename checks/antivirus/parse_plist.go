package antivirus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/internal/plistval"
)

// bundleVersion reads CFBundleShortVersionString (or CFBundleVersion) of
// an Info.plist, XML or binary.
func bundleVersion(b []byte) (string, error) {
	var info struct {
		Short   string `plist:"CFBundleShortVersionString"`
		Version string `plist:"CFBundleVersion"`
	}
	if _, err := plistval.Unmarshal(b, &info); err != nil {
		return "", fmt.Errorf("decode Info.plist: %w", err)
	}
	return firstNonEmpty(info.Short, info.Version), nil
}

// installEntry is one XProtect data install: when and which version.
type installEntry struct {
	Name    string
	Version string
	Date    time.Time
}

// isXProtect matches the install-history names of XProtect's data
// (XProtectPlistConfigData, XProtectPayloads, XProtectCloudKitUpdate...).
func isXProtect(name string, pkgs []string) bool {
	if strings.HasPrefix(name, "XProtect") {
		return true
	}
	for _, p := range pkgs {
		if strings.HasPrefix(p, "com.apple.pkg.XProtect") {
			return true
		}
	}
	return false
}

// parseInstallHistory reads /Library/Receipts/InstallHistory.plist and
// returns its newest XProtect install.
func parseInstallHistory(b []byte) (installEntry, bool, error) {
	var rows []struct {
		Date     time.Time `plist:"date"`
		Name     string    `plist:"displayName"`
		Version  string    `plist:"displayVersion"`
		Packages []string  `plist:"packageIdentifiers"`
	}
	if _, err := plistval.Unmarshal(b, &rows); err != nil {
		return installEntry{}, false, fmt.Errorf("decode InstallHistory.plist: %w", err)
	}
	var best installEntry
	found := false
	for _, r := range rows {
		if !isXProtect(r.Name, r.Packages) || r.Date.IsZero() {
			continue
		}
		if !found || r.Date.After(best.Date) {
			best, found = installEntry{Name: r.Name, Version: r.Version, Date: r.Date.UTC()}, true
		}
	}
	return best, found, nil
}

// parseSPInstallHistory reads `system_profiler -json
// SPInstallHistoryDataType` and returns its newest XProtect install.
func parseSPInstallHistory(b []byte) (installEntry, bool, error) {
	var doc struct {
		Items []struct {
			Name    string `json:"_name"`
			Date    string `json:"install_date"`
			Version string `json:"install_version"`
		} `json:"SPInstallHistoryDataType"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &doc); err != nil {
		return installEntry{}, false, fmt.Errorf("decode system_profiler output: %w", err)
	}
	var best installEntry
	found := false
	for _, it := range doc.Items {
		if !isXProtect(it.Name, nil) {
			continue
		}
		t, err := time.Parse(time.RFC3339, it.Date)
		if err != nil {
			continue
		}
		if !found || t.After(best.Date) {
			best, found = installEntry{Name: it.Name, Version: it.Version, Date: t.UTC()}, true
		}
	}
	return best, found, nil
}

// softwareUpdatePrefs is what decides whether macOS keeps XProtect
// current on its own, from com.apple.SoftwareUpdate (managed profile keys
// override the machine's own).
type softwareUpdatePrefs struct {
	LastSuccessfulDate    *time.Time `plist:"LastSuccessfulDate"`
	AutomaticCheckEnabled *bool      `plist:"AutomaticCheckEnabled"`
	ConfigDataInstall     *bool      `plist:"ConfigDataInstall"`
	CriticalUpdateInstall *bool      `plist:"CriticalUpdateInstall"`
}

func parseSoftwareUpdatePrefs(b []byte) (softwareUpdatePrefs, error) {
	var p softwareUpdatePrefs
	if _, err := plistval.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode com.apple.SoftwareUpdate.plist: %w", err)
	}
	return p, nil
}

// merge lays managed over local.
func (p softwareUpdatePrefs) merge(managed softwareUpdatePrefs) softwareUpdatePrefs {
	if managed.AutomaticCheckEnabled != nil {
		p.AutomaticCheckEnabled = managed.AutomaticCheckEnabled
	}
	if managed.ConfigDataInstall != nil {
		p.ConfigDataInstall = managed.ConfigDataInstall
	}
	if managed.CriticalUpdateInstall != nil {
		p.CriticalUpdateInstall = managed.CriticalUpdateInstall
	}
	return p
}

// autoInstallsXProtect: XProtect data is installed automatically unless
// automatic checks or "Install Security Responses and system files" are
// turned off (both default to on).
func (p softwareUpdatePrefs) autoInstallsXProtect() bool {
	off := func(b *bool) bool { return b != nil && !*b }
	return !off(p.AutomaticCheckEnabled) && !off(p.ConfigDataInstall)
}
