package ospatched

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/plistval"
	"github.com/postern-dev/postern/checks/osdata"
)

// macOS sources.
const (
	softwareUpdatePath = "/usr/sbin/softwareupdate"
	installHistoryPath = "/Library/Receipts/InstallHistory.plist"
	suPrefsPath        = "/Library/Preferences/com.apple.SoftwareUpdate.plist"
	suTimeout          = 3 * time.Minute
	suTTL              = 6 * time.Hour
)

func collectDarwin(ctx context.Context, h host.Host) (*Facts, error) {
	id, err := osdata.ReadIdentity(ctx, h)
	if err != nil {
		return nil, err
	}
	f := &Facts{OS: id}
	if b, err := h.ReadFile(installHistoryPath); err == nil {
		if t, name, ok := lastMacInstall(b); ok {
			f.LastPatch = &Stamp{At: t, Source: installHistoryPath + " (" + name + ")"}
		}
	}
	if b, err := h.ReadFile(suPrefsPath); err == nil {
		var prefs struct {
			LastSuccessfulDate time.Time `plist:"LastSuccessfulDate"`
		}
		if _, err := plistval.Unmarshal(b, &prefs); err == nil && !prefs.LastSuccessfulDate.IsZero() {
			f.LastRefresh = &Stamp{At: prefs.LastSuccessfulDate.UTC(), Source: suPrefsPath + " LastSuccessfulDate"}
		}
	}
	major, _, _ := strings.Cut(id.Version, ".")
	p, err := shared.get(ctx, h, search{name: "softwareupdate", ttl: suTTL, timeout: suTimeout, run: func(ctx context.Context) (*Pending, error) {
		out, err := h.Run(ctx, softwareUpdatePath, "--list")
		if err != nil || out.ExitCode != 0 {
			return nil, toolError("softwareupdate --list", out, err)
		}
		all := parseSoftwareUpdateList(out.Stdout)
		// Exit 0 is no evidence: a scan that failed (no network, an
		// unreachable catalog) also exits 0. Only a listed update or
		// softwareupdate's own "No new software available." on either
		// stream is an answer.
		if len(all) == 0 {
			if why := noSoftwareUpdateAnswer(out); why != "" {
				return nil, fmt.Errorf("softwareupdate --list: %s", why)
			}
		}
		var sec []Update
		for _, u := range all {
			if isMacSecurityUpdate(u, major) {
				sec = append(sec, Update{Name: u.Title, Version: u.Version, Origin: u.Label})
			}
		}
		return newPending(h, "softwareupdate --list", len(all), sec), nil
	}})
	if err != nil {
		f.PendingError = err.Error()
		return f, nil
	}
	f.Pending = p
	return f, nil
}
