package diskenc

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/plistval"
)

// apfsList is the part of `diskutil apfs list -plist` the check needs.
type apfsList struct {
	Containers []struct {
		ContainerReference string       `plist:"ContainerReference"`
		Volumes            []apfsVolume `plist:"Volumes"`
	} `plist:"Containers"`
}

type apfsVolume struct {
	DeviceIdentifier  string   `plist:"DeviceIdentifier"`
	Name              string   `plist:"Name"`
	Roles             []string `plist:"Roles"`
	FileVault         *bool    `plist:"FileVault"`
	Encryption        *bool    `plist:"Encryption"`
	Locked            *bool    `plist:"Locked"`
	CryptoMigrationOn *bool    `plist:"CryptoMigrationOn"`
}

func (v apfsVolume) hasRole(role string) bool {
	for _, r := range v.Roles {
		if strings.EqualFold(r, role) {
			return true
		}
	}
	return false
}

// diskInfo is the part of `diskutil info -plist /` the check needs.
type diskInfo struct {
	DeviceIdentifier       string `plist:"DeviceIdentifier"`
	APFSContainerReference string `plist:"APFSContainerReference"`
	FileVault              *bool  `plist:"FileVault"`
	MountPoint             string `plist:"MountPoint"`
	FilesystemType         string `plist:"FilesystemType"`
}

func parseAPFSList(b []byte) (*apfsList, error) {
	var l apfsList
	if _, err := plistval.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("parse diskutil apfs list: %w", err)
	}
	if l.Containers == nil {
		return nil, fmt.Errorf("parse diskutil apfs list: no Containers")
	}
	return &l, nil
}

func parseDiskInfo(b []byte) (*diskInfo, error) {
	var d diskInfo
	if _, err := plistval.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parse diskutil info: %w", err)
	}
	if d.DeviceIdentifier == "" {
		return nil, fmt.Errorf("parse diskutil info: no DeviceIdentifier")
	}
	return &d, nil
}

// FileVault states from fdesetup.
const (
	fdeOn         = "on"
	fdeOff        = "off"
	fdeEncrypting = "encrypting"
	fdeDecrypting = "decrypting"
)

// fdeStatus is what `fdesetup status` printed.
type fdeStatus struct {
	state   string
	percent *float64
	line    string
}

var fdePercentRE = regexp.MustCompile(`Percent completed = ([0-9]+(?:\.[0-9]+)?)`)

// parseFdesetup reads "FileVault is On.", "FileVault is Off." (possibly
// followed by a deferred-enablement line, or that line alone), "Encryption in progress:
// Percent completed = 45.2" or "Decryption in progress: ...". fdesetup is
// not localized.
func parseFdesetup(b []byte) (fdeStatus, bool) {
	text := strings.ReplaceAll(string(b), "\r", "")
	st := fdeStatus{line: strings.TrimSpace(strings.SplitN(text, "\n", 2)[0])}
	if m := fdePercentRE.FindStringSubmatch(text); m != nil {
		if p, err := strconv.ParseFloat(m[1], 64); err == nil {
			st.percent = &p
		}
	}
	switch {
	case strings.Contains(text, "Encryption in progress"), strings.Contains(text, "Encryption paused"):
		st.state = fdeEncrypting
	case strings.Contains(text, "Decryption in progress"), strings.Contains(text, "Decryption paused"):
		st.state = fdeDecrypting
	case strings.Contains(text, "FileVault is On"):
		st.state = fdeOn
	case strings.Contains(text, "FileVault is Off"):
		st.state = fdeOff
	case strings.Contains(text, "Deferred enablement appears to be active"):
		// macOS 13 was reported printing only this line (jamf/DEPNotify-
		// Starter issue #58): enablement waits for the next login, so
		// the disk is not encrypted yet.
		st.state = fdeOff
	default:
		return st, false
	}
	return st, true
}
